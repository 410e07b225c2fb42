"""The upload action: a checked file is stored here first, then relayed by the outbox.

Written with cases.actions.case_action_write (the case's lock, the lifecycle check, the row and
the relay queued on commit), as every other action on a case is.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

from cases.actions import NOT_MERGED, ActionInvalid, action_fields, action_same_submit, case_action_write
from cases.models import Case
from debitura import validation
from debitura.enums import DocumentType
from documents.checks import DocumentInvalid, document_check
from outbox.models import OutboxAction

Kind = OutboxAction.Kind


def case_file_upload(
    *,
    case: Case,
    actor: Any,
    file: File[Any],
    description: str = "",
    document_type: DocumentType | str | None = None,
    token: str | None = None,
) -> OutboxAction:
    """Upload a document (always visible to the creditor); it is stored here first, then relayed."""
    try:
        # A safe name, Debitura's extensions and size, and content that matches the extension.
        file_name = document_check(file=file)
    except DocumentInvalid as exc:
        raise ActionInvalid({"file": str(exc)}) from None
    if document_type and document_type not in DocumentType.__members__.values():
        raise ActionInvalid({"document_type": "Choose one of the listed document types."})
    with action_fields({"File": "file", "Description": "description"}):
        validation.check_upload(file_name=file_name, size=file.size, description=description or None)
    existing = OutboxAction.objects.filter(idempotency_key=token).first() if token else None
    if existing is not None:
        return action_same_submit(existing, case=case, actor=actor, kind=Kind.FILE_UPLOAD)
    # Our own name under our own folder: a user-given path never reaches the storage or the relay.
    stored_name = default_storage.save(f"outbox/{case.pk}/{uuid.uuid4().hex}/{file_name}", file)
    payload = {
        "stored_name": stored_name,
        "file_name": file_name,
        "size": file.size,
        "description": description,
        "document_type": DocumentType(document_type).value if document_type else None,
    }
    try:
        action = case_action_write(
            case=case, actor=actor, kind=Kind.FILE_UPLOAD, payload=payload, token=token, allowed=NOT_MERGED
        )
    except Exception:
        default_storage.delete(stored_name)
        raise
    if action.payload.get("stored_name") != stored_name:
        default_storage.delete(stored_name)  # a concurrent double submit won
    return action
