"""Case files: upload one or more (checked, stored, relayed through the outbox) and open them
through the portal. Nothing here talks to Debitura itself; documents/opening.py does, through the
gateway. The URLs keep their `cases:` names (documents/urls.py, included by cases/urls.py).

The upload form works without JavaScript (one multipart POST with one or more files, one
document type and description for all); static/js/uploads.js sends one request per file with
its own type, description and progress bar, and gets the partial `upload_result` back.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from cases.actions import ActionInvalid
from cases.models import Case, CaseFile
from cases.panel import PanelItem
from cases.views import case_page_context
from debitura.errors import DebituraError, NotFound, TransientError
from documents.actions import case_file_upload
from documents.checks import DocumentSizeLimit, document_download_name, document_served_as
from documents.forms import DocumentUploadForm
from documents.opening import DocumentRefused, case_file_open
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest


@csrf_exempt  # checked below, once the size limit is in place (the check reads the body)
@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def file_upload(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Queue one or more files for the case; each is checked and answered on its own."""
    request.upload_handlers = [DocumentSizeLimit(request), *request.upload_handlers]
    return _file_upload(request, case_id)


@csrf_protect
def _file_upload(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    case = get_object_or_404(Case, id=case_id)
    form = DocumentUploadForm(request.POST, request.FILES)
    queued: list[OutboxAction] = []
    refused: list[tuple[str, str]] = []
    if form.is_valid():
        data = form.cleaned_data
        for index, file in enumerate(data["documents"]):
            try:
                action = case_file_upload(
                    case=case,
                    actor=request.user,
                    file=file,
                    description=data["description"],
                    document_type=data["document_type"] or None,
                    # One token per file, so a form sent twice queues each file once.
                    token=f"{data['token']}:{index}",
                )
            except ActionInvalid as exc:
                words = _words(exc.message_dict)
                name = file.name or ""
                refused.append(
                    ("documents", words if name and words.startswith(name) else f"{name}: {words}")
                )
            else:
                queued.append(action)
    else:
        # Keyed by field, so that each message shows next to the field it is about.
        refused.extend(
            (field if field in ("document_type", "description") else "documents", " ".join(map(str, errors)))
            for field, errors in form.errors.items()
        )
    status = 400 if refused else 200
    if request.htmx:
        context = {"case": case, "queued": queued, "refused": refused}
        return render(request, "documents/_files.html#upload_result", context, status=status)
    for action in queued:
        messages.success(
            request, f"{action.payload['file_name']} queued: it shows as pending until Debitura has it."
        )
    if not refused:
        return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]) + "#case-files")
    context = case_page_context(request, case)
    items: list[PanelItem] = context.get("panel_items", [])  # type: ignore[assignment]
    if any(item.name == "upload" for item in items):
        # A fresh token: the files queued from this form must not answer for the ones sent again.
        fresh = DocumentUploadForm(
            initial={
                "document_type": request.POST.get("document_type", ""),
                "description": request.POST.get("description", ""),
            }
        )
        fresh.refused = refused
        context["upload_form"] = fresh  # documents/_files.html shows it instead of an empty one
        for item in items:
            item.open = item.name == "upload"  # where the refusals are said
    else:  # no form on this case (merged meanwhile): say it above the page
        for _name, message in refused:
            messages.error(request, message)
    return render(request, "cases/case_detail.html", context, status=400)


def _words(errors: dict[str, list[str]]) -> str:
    return " ".join(message for messages_ in errors.values() for message in messages_)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def file_open(request: HtmxHttpRequest, case_id: str, file_id: str) -> HttpResponse:
    """Stream one of the case's files from Debitura, refreshing an expired link on the way."""
    case_file = get_object_or_404(CaseFile, id=file_id, case_id=case_id)
    try:
        opened = case_file_open(case_file=case_file)
    except (DebituraError, DocumentRefused) as exc:
        return _cannot_open(request, case_file.case_id, case_file.file_name, exc)
    response = StreamingHttpResponse(opened, content_type=opened.content_type)
    return _file_headers(response, opened.file_name, inline=opened.inline, size=opened.size)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def upload_open(request: HtmxHttpRequest, case_id: str, action_id: str) -> HttpResponse:
    """A file still on its way to Debitura (or refused), from the portal's own storage."""
    action = get_object_or_404(
        OutboxAction, id=action_id, case_id=case_id, kind=OutboxAction.Kind.FILE_UPLOAD
    )
    # The stored name was made by case_file_upload under outbox/<case>/; nothing from the request.
    stored = str(action.payload.get("stored_name") or "")
    if not stored.startswith(f"outbox/{action.case_id}/") or not default_storage.exists(stored):
        messages.error(
            request, "That upload is no longer kept here; open it from the list once Debitura has it."
        )
        return HttpResponseRedirect(reverse("cases:detail", args=[case_id]) + "#case-files")
    name = str(action.payload.get("file_name") or PurePath(stored).name)
    stream = default_storage.open(stored, "rb")
    head = stream.read(1024)
    stream.seek(0)
    content_type, inline = document_served_as(name, head)
    # FileResponse closes the file and sets its length and disposition itself.
    response = FileResponse(stream, content_type=content_type, as_attachment=not inline, filename=name)
    return _file_headers(response, name, inline=inline, size=stream.size)


def _file_headers(
    response: HttpResponse | StreamingHttpResponse, name: str, *, inline: bool, size: int | None
) -> Any:
    # Debitura's name, as a base name a browser saves without asking (no folders, no controls).
    safe = document_download_name(name)
    response["Content-Disposition"] = content_disposition_header(not inline, safe) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    # A PDF opened inline runs on the portal's origin: no scripts, no forms, no same-origin access.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    if size is not None:
        response["Content-Length"] = str(size)
    return response


def _cannot_open(
    request: HtmxHttpRequest, case_id: uuid.UUID, name: str, exc: DebituraError | DocumentRefused
) -> HttpResponse:
    if isinstance(exc, DocumentRefused):
        reason = str(exc).rstrip(".")
    elif isinstance(exc, NotFound):
        reason = "it is no longer on the case at Debitura"
    elif isinstance(exc, TransientError):
        reason = "Debitura did not answer in time; try again in a moment"
    else:  # LinkRefused and the other refusals carry their own words
        reason = getattr(exc, "message", None) or str(exc)
    messages.error(request, f"{name} could not be opened: {reason}")
    return HttpResponseRedirect(reverse("cases:detail", args=[case_id]) + "#case-files")
