"""Celery tasks for cases: thin wrappers that load ids and call one service.

The services that queue a task (cases.sync) do it by name, so this module imports them and not
the other way round; CasesConfig.ready() imports it so every process knows the tasks by name
(a name Celery does not know in the process is sent to the broker even when tasks run eagerly).

Which layer retries what (the README's "Where do retries back off?"): the client retries one
request's attempts (short waits, never an ambiguous write); an action's sends back off on its
outbox row (outbox/timing.py), so the outbox's tasks in outbox/tasks.py declare no retries; a
case whose children cannot be stored is passed over by the children queue (children_backoff).
The decorators here retry only what is left: a one-off pull task (a case, its children, the
team, the webhook subscription, a webhook delivery) whose request still failed transiently
after the client's attempts, with the policy transient_retries() declares. Tasks run by beat (the
syncs, the children queue, the prune) declare none: their next scheduled run is the retry.
Permanent errors are recorded by the services themselves (SyncRun.error).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from cases import sync
from cases.models import Case
from cases.sync import webhooks
from debitura.errors import TransientError


def transient_retries(*, backoff: int, cap: int, retries: int) -> dict[str, Any]:
    """A pull task's retry policy: only TransientError, waiting about `backoff` seconds doubled
    after each try (Celery's jitter) up to `cap`, at most `retries` times; then it fails."""
    return {
        "autoretry_for": (TransientError,),
        "retry_backoff": backoff,
        "retry_backoff_max": cap,
        "max_retries": retries,
    }


# --- Sync (pull) --------------------------------------------------------------------------------


@shared_task(name="cases.sync_incremental", ignore_result=True)
def sync_incremental() -> None:
    """Pull what changed at Debitura since the last sync (beat: every minute)."""
    sync.cases_sync_incremental()


@shared_task(name="cases.sync_full", ignore_result=True)
def sync_full() -> None:
    """Walk every case at Debitura and mark those no longer visible (beat: nightly)."""
    sync.cases_sync_full()


@shared_task(name="cases.refresh_children_batch", ignore_result=True)
def refresh_children_batch() -> None:
    """Work through the child-refresh queue within its share of the rate limit."""
    sync.cases_children_queue_run()


@shared_task(
    name="cases.refresh_case",
    ignore_result=True,
    **transient_retries(backoff=5, cap=300, retries=5),
)
def refresh_case(case_id: str) -> None:
    """Re-fetch one case and its children (a webhook hint or an agent's action landed)."""
    sync.case_refresh(case_id=case_id)


@shared_task(
    name="cases.refresh_case_children",
    ignore_result=True,
    **transient_retries(backoff=5, cap=120, retries=5),
)
def refresh_case_children(case_id: str) -> None:
    """Refresh one case's children now: an agent is looking at it."""
    case = Case.objects.filter(id=case_id, children_stale=True).first()
    if case is not None:  # already refreshed by someone else: nothing to do (debounce)
        # An agent waits for it: the whole budget, not the background queue's share (which a
        # first import may be using up).
        sync.case_children_refresh_isolated(case=case, client=sync.get_client())


@shared_task(
    name="cases.sync_team",
    ignore_result=True,
    **transient_retries(backoff=2, cap=60, retries=5),
)
def sync_team() -> None:
    """Mirror the agency's team at Debitura (beat: hourly, and at worker start: retried until it answers)."""
    sync.team_sync()


@shared_task(
    name="cases.ensure_webhook_subscription",
    ignore_result=True,
    **transient_retries(backoff=2, cap=60, retries=8),
)
def ensure_webhook_subscription() -> None:
    """Make sure Debitura delivers to DEBITURA_WEBHOOK_URL (at worker start, when it is set)."""
    webhooks.webhook_subscription_ensure(url=settings.DEBITURA_WEBHOOK_URL)


@shared_task(name="cases.prune_webhook_events", ignore_result=True)
def prune_webhook_events() -> None:
    """Delete old webhook deliveries (beat: daily)."""
    webhooks.webhook_events_prune()


WEBHOOK_TRIES = 6


@shared_task(
    name="cases.process_webhook",
    bind=True,
    ignore_result=True,
    acks_late=True,
    **transient_retries(backoff=2, cap=120, retries=WEBHOOK_TRIES - 1),
)
def process_webhook(self: Task, event_pk: int) -> None:
    """Act on a stored webhook delivery: re-fetch the case it names (tried again while Debitura is away)."""
    webhooks.webhook_event_process(event_pk=event_pk, last_try=self.request.retries >= WEBHOOK_TRIES - 1)
