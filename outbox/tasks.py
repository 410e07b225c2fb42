"""Celery tasks of the outbox: thin wrappers around the relay.

Their names keep the `cases.` prefix they had before the outbox was an app of its own: messages
already queued (and the beat schedule) name them so.
"""

from __future__ import annotations

from celery import shared_task

from outbox.queue import RELAY_TASK
from outbox.relay import outbox_relay_due, outbox_sweep


@shared_task(name=RELAY_TASK, ignore_result=True, acks_late=True)
def relay_outbox(action_id: str | None = None) -> None:
    """Send due outbox rows to Debitura (one row first when an id is given)."""
    outbox_relay_due(first_action_id=action_id)


@shared_task(name="cases.sweep_outbox", ignore_result=True)
def sweep_outbox() -> None:
    """Pick up rows left behind: missed on-commit hooks, expired leases after a worker died."""
    outbox_sweep()
