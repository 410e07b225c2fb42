"""The upload's outbox handler: send the stored copy, look for it after an unclear failure, add
it to the list with who uploaded it, and remove the copy once Debitura has it (or the upload is
cancelled). Registered with the outbox by DocumentsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cases.models import CaseFile
from debitura import types
from debitura.client import DebituraClient
from debitura.enums import DocumentType
from outbox.models import OutboxAction
from outbox.registry import BEFORE, Handler, handler_register


def case_file_uploaded(action: OutboxAction, result: Any) -> None:
    """The relay's confirmation of an upload: the file joins the list with who uploaded it and
    its size, and the copy kept for the relay is removed once the row is committed as done."""
    p = action.payload
    if isinstance(result, types.CaseFile) and result.id:
        CaseFile.objects.update_or_create(
            id=result.id,
            defaults={
                "case_id": action.case_id,
                "file_name": (result.file_name or p["file_name"])[:300],
                "description": (result.description or p.get("description") or "")[:500],
                "document_type": result.document_type or p.get("document_type") or "",
                "entity_type": result.entity_type or "",
                "date_created": result.date_created or timezone.now(),
                "url": result.url or "",
                "url_fetched_at": timezone.now() if result.url else None,
                "uploaded_by_id": action.actor_id,
                "size": p.get("size"),
            },
        )
    _discard_on_commit(p.get("stored_name"))


def case_file_upload_undo(action: OutboxAction, cancelled: bool) -> None:
    """A cancelled upload's copy is removed; a failed one's is kept, so it can be retried."""
    if cancelled:
        _discard_on_commit(action.payload.get("stored_name"))


def _discard_on_commit(stored_name: str | None) -> None:
    if stored_name:
        transaction.on_commit(lambda: default_storage.delete(stored_name))


def _send_file(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    document_type = DocumentType(p["document_type"]) if p.get("document_type") else None
    with default_storage.open(p["stored_name"], "rb") as stream:
        return client.upload_file(
            str(action.case_id),
            stream,
            file_name=p["file_name"],
            document_type=document_type,
            description=p.get("description") or None,
        )


def _same_file(action: OutboxAction, remote: Any) -> bool:
    description = action.payload.get("description") or None
    return bool(
        remote.file_name == action.payload["file_name"]
        and (remote.description is None or remote.description == description)
    )


def _before_file(action: OutboxAction, client: DebituraClient, known: Any = None) -> tuple[list[str], None]:
    """The ids of files like ours that the case holds before ours is sent."""
    return sorted(f.id for f in client.list_files(str(action.case_id)) if _same_file(action, f)), None


def _check_file(action: OutboxAction, client: DebituraClient) -> bool:
    before = action.payload.get(BEFORE)
    if before is None:
        return False  # nothing was sent: the ids are taken before the first send
    return any(_same_file(action, f) and f.id not in before for f in client.list_files(str(action.case_id)))


UPLOAD_HANDLER = Handler(
    _send_file,
    _check_file,
    confirm=case_file_uploaded,
    undo=case_file_upload_undo,
    before=_before_file,
    blind=frozenset({"files"}),
)


def upload_handler_register() -> None:
    """Hand the outbox the handler of uploads (DocumentsConfig.ready())."""
    handler_register(kind=OutboxAction.Kind.FILE_UPLOAD, handler=UPLOAD_HANDLER)
