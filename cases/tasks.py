"""Celery tasks for cases: thin wrappers that load ids and call one service.

Retries are declared on the decorators and cover transient errors only; permanent errors are
recorded by the services themselves (SyncRun.error, OutboxAction.last_error).
"""

from __future__ import annotations

from celery import shared_task

# --- Outbox (push) ------------------------------------------------------------------------------


@shared_task(name="cases.relay_outbox", ignore_result=True, acks_late=True)
def relay_outbox(action_id: str | None = None) -> None:
    """Send due outbox rows to Debitura (one row first when an id is given)."""
    from cases.outbox import outbox_relay_due

    outbox_relay_due(first_action_id=action_id)


@shared_task(name="cases.sweep_outbox", ignore_result=True)
def sweep_outbox() -> None:
    """Pick up rows left behind: missed on-commit hooks, expired leases after a worker died."""
    from cases.outbox import outbox_sweep

    outbox_sweep()
