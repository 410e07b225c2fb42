"""How a bulk note reaches Debitura: the outbox handler of kind bulk_note, registered from
BulknotesConfig.ready().

The outbox row is done when Debitura took the job (202 with its id), not when the job is
processed: a row stays in the relay's hands only while the request is unanswered, and the case
it sits on must not wait behind a job that takes minutes. Polling the job to its end is
bulknotes.polling's (a Celery task that queues itself again, with a sweep behind it).

- send: one POST /ingestion-jobs with every case's row and the row's Idempotency-Key; a retry
  after a timeout sends the same body with the same key, and Debitura replays the first answer
  instead of queueing a second job. So there is no effect check (`check` is None).
- before: how many notes with this text each case's timeline holds before the first send; kept
  in the row's payload (outbox.registry.BEFORE), so a look-alike already there is not taken for
  ours when the results are read back.
- confirm: the job's id on the bulk note, and its first poll queued.
- undo / redo: a refused (or cancelled) job fails every case with Debitura's words; an
  administrator's retry puts them back to pending.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bulknotes.models import BulkNote, BulkNoteCase
from bulknotes.polling import bulk_note_poll_queue, poll_interval
from bulknotes.rows import bulk_note_rows, same_text
from debitura.client import DebituraClient
from debitura.errors import NotFound
from debitura.types import IngestionJobCreated
from outbox.models import OutboxAction
from outbox.registry import Handler, handler_register


def _send(action: OutboxAction, client: DebituraClient) -> IngestionJobCreated:
    return client.create_ingestion_job(bulk_note_rows(action), idempotency_key=action.idempotency_key)


def _before(action: OutboxAction, client: DebituraClient, known: Any = None) -> tuple[dict[str, int], None]:
    """Each case's count of notes with this text at Debitura, before the job is sent."""
    text = action.payload["description"]
    counts: dict[str, int] = {}
    for case_id in action.payload["case_ids"]:
        try:
            timeline = client.get_timeline(case_id)
        except NotFound:
            counts[case_id] = 0  # no longer ours: its row fails, and nothing is found after
            continue
        counts[case_id] = sum(same_text(item.description, text) for item in timeline.items)
    return counts, None


def _confirm(action: OutboxAction, result: Any) -> None:
    """Debitura took the job: keep its id and start polling (inside the relay's transaction).

    Without a readable answer (a 2xx the gateway could not read) the id is not known: the first
    poll sends the request again with the same key, and Debitura replays the answer.
    """
    now = timezone.now()
    job_id = result.job_id if isinstance(result, IngestionJobCreated) else ""
    delay = poll_interval(0)
    bulk = BulkNote.objects.get(action=action)
    BulkNote.objects.filter(pk=bulk.pk, state=BulkNote.State.SENDING).update(
        state=BulkNote.State.QUEUED,
        job_id=job_id,
        next_poll_at=now + delay,
        updated_at=now,
        last_error="",
    )
    transaction.on_commit(lambda: bulk_note_poll_queue(bulk.pk, countdown=delay.total_seconds()))


def _undo(action: OutboxAction, cancelled: bool) -> None:
    now = timezone.now()
    reason = (
        "Cancelled in the portal before it was sent."
        if cancelled
        else f"Debitura refused the job: {action.last_error or 'no reason given'}"
    )
    bulk = BulkNote.objects.get(action=action)
    BulkNote.objects.filter(pk=bulk.pk).update(
        state=BulkNote.State.FAILED, last_error=reason, finished_at=now, updated_at=now, next_poll_at=None
    )
    BulkNoteCase.objects.filter(bulk_note=bulk, state=BulkNoteCase.State.PENDING).update(
        state=BulkNoteCase.State.FAILED, reason=reason, updated_at=now
    )


def _redo(action: OutboxAction) -> None:
    now = timezone.now()
    bulk = BulkNote.objects.get(action=action)
    BulkNote.objects.filter(pk=bulk.pk).update(
        state=BulkNote.State.SENDING, last_error="", finished_at=None, updated_at=now
    )
    BulkNoteCase.objects.filter(bulk_note=bulk).update(
        state=BulkNoteCase.State.PENDING, reason="", updated_at=now
    )


BULK_NOTE_HANDLER = Handler(_send, before=_before, confirm=_confirm, undo=_undo, redo=_redo)


def handlers_register() -> None:
    """Hand the outbox the bulk note's handler."""
    handler_register(kind=OutboxAction.Kind.BULK_NOTE, handler=BULK_NOTE_HANDLER)
