"""The case page's files section, owned by documents: the uploads shown beside Debitura's files
and the upload form, read from the context the case page already has (no import of documents in
cases; its templates include documents/_files.html)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from cases.models import DOCUMENT_TYPE_LABELS, CaseFile
from documents.forms import DocumentUploadForm
from outbox.models import OutboxAction

register = template.Library()


@register.simple_tag
def case_uploads_shown(*, actions: Iterable[OutboxAction], files: Iterable[CaseFile]) -> list[OutboxAction]:
    """Upload rows the file list shows beside Debitura's files: on their way, failed, or done but
    not in the local list yet. Read from the rows the case page already loaded: no query."""
    listed = {str(f.id) for f in files}
    shown = []
    for action in actions:
        if action.kind != OutboxAction.Kind.FILE_UPLOAD or action.state == OutboxAction.State.CANCELLED:
            continue
        if action.state == OutboxAction.State.DONE:
            remote_id = action.response.get("id") if isinstance(action.response, dict) else None
            if not remote_id or str(remote_id) in listed:
                continue
        action.document_type_label = DOCUMENT_TYPE_LABELS.get(  # type: ignore[attr-defined]
            action.payload.get("document_type") or "", action.payload.get("document_type") or ""
        )
        shown.append(action)
    return shown


@register.simple_tag(takes_context=True)
def upload_form(context: Any) -> DocumentUploadForm:
    """The upload form the view handed over (refusals and what was typed, after a no-JavaScript
    POST), else an empty one with a fresh token."""
    form = context.get("upload_form")
    return form if isinstance(form, DocumentUploadForm) else DocumentUploadForm()
