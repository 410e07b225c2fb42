"""Celery tasks of bulk notes: thin wrappers around bulknotes.polling."""

from __future__ import annotations

from celery import shared_task

from bulknotes.polling import POLL_TASK, bulk_note_poll, bulk_notes_sweep


@shared_task(name=POLL_TASK, ignore_result=True, acks_late=True)
def poll(bulk_id: int) -> None:
    """Poll one bulk note's job; the poll queues the next one itself until the job is final."""
    bulk_note_poll(bulk_id=bulk_id)


@shared_task(name="bulknotes.sweep", ignore_result=True)
def sweep() -> None:
    """Queue polls that never ran (beat): a restarted worker's jobs carry on."""
    bulk_notes_sweep()
