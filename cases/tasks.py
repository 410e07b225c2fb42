"""Celery tasks for cases: thin wrappers that load ids and call one service.

Retries are declared on the decorators and cover transient errors only; permanent errors are
recorded by the services themselves (SyncRun.error). The outbox's tasks are in outbox/tasks.py.
"""

from __future__ import annotations

from celery import Task, shared_task

from debitura.errors import TransientError

# --- Sync (pull) --------------------------------------------------------------------------------


@shared_task(name="cases.sync_incremental", ignore_result=True)
def sync_incremental() -> None:
    """Pull what changed at Debitura since the last sync (beat: every minute)."""
    from cases.sync import cases_sync_incremental

    cases_sync_incremental()


@shared_task(name="cases.sync_full", ignore_result=True)
def sync_full() -> None:
    """Walk every case at Debitura and mark those no longer visible (beat: nightly)."""
    from cases.sync import cases_sync_full

    cases_sync_full()


@shared_task(name="cases.refresh_children_batch", ignore_result=True)
def refresh_children_batch() -> None:
    """Work through the child-refresh queue within its share of the rate limit."""
    from cases.sync import cases_children_queue_run

    cases_children_queue_run()


@shared_task(
    name="cases.refresh_case",
    ignore_result=True,
    autoretry_for=(TransientError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def refresh_case(case_id: str) -> None:
    """Re-fetch one case and its children (a webhook hint or an agent's action landed)."""
    from cases.sync import case_refresh

    case_refresh(case_id=case_id)


@shared_task(
    name="cases.refresh_case_children",
    ignore_result=True,
    autoretry_for=(TransientError,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
)
def refresh_case_children(case_id: str) -> None:
    """Refresh one case's children now: an agent is looking at it."""
    from cases.models import Case
    from cases.sync import case_children_refresh_isolated, get_client

    case = Case.objects.filter(id=case_id, children_stale=True).first()
    if case is not None:  # already refreshed by someone else: nothing to do (debounce)
        # An agent waits for it: the whole budget, not the background queue's share (which a
        # first import may be using up).
        case_children_refresh_isolated(case=case, client=get_client())


@shared_task(
    name="cases.sync_team",
    ignore_result=True,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def sync_team() -> None:
    """Mirror the agency's team at Debitura (beat: hourly, and at worker start: retried until it answers)."""
    from cases.sync import team_sync

    team_sync()


@shared_task(
    name="cases.ensure_webhook_subscription",
    ignore_result=True,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def ensure_webhook_subscription() -> None:
    """Make sure Debitura delivers to DEBITURA_WEBHOOK_URL (at worker start, when it is set)."""
    from django.conf import settings

    from cases.webhooks import webhook_subscription_ensure

    webhook_subscription_ensure(url=settings.DEBITURA_WEBHOOK_URL)


@shared_task(name="cases.prune_webhook_events", ignore_result=True)
def prune_webhook_events() -> None:
    """Delete old webhook deliveries (beat: daily)."""
    from cases.webhooks import webhook_events_prune

    webhook_events_prune()


WEBHOOK_TRIES = 6


@shared_task(
    name="cases.process_webhook",
    bind=True,
    ignore_result=True,
    acks_late=True,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=WEBHOOK_TRIES - 1,
)
def process_webhook(self: Task, event_pk: int) -> None:
    """Act on a stored webhook delivery: re-fetch the case it names (tried again while Debitura is away)."""
    from cases.webhooks import webhook_event_process

    webhook_event_process(event_pk=event_pk, last_try=self.request.retries >= WEBHOOK_TRIES - 1)
