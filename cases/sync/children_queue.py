"""The children queue: stale cases' children refreshed in priority order, within the children's
share of the rate limit, one case's failure backed off without holding up the rest."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from cases.changes import SYNC, cases_changed_on_commit
from cases.counts import case_counts
from cases.models import Case, ChildrenProgress
from cases.sync.children import ChildrenConflict, case_children_refresh
from cases.sync.rows import ChildPriority
from debitura.client import DebituraClient, client_from_settings
from debitura.errors import DebituraError, NotFound, TransientError
from debitura.throttle import DEBITURA_WINDOWS
from outbox.models import OutboxAction

log = logging.getLogger(__name__)


CHILD_REQUESTS_PER_CASE = 6
# A case whose children cannot be stored waits 1, 2, 4 ... minutes, at most an hour, before the
# queue tries it again; the cases behind it go on.
CHILDREN_BACKOFF_BASE = timedelta(minutes=1)
CHILDREN_BACKOFF_CAP = timedelta(hours=1)


def children_backoff(failures: int) -> timedelta:
    """How long the queue passes over a case after `failures` failed refreshes in a row."""
    return min(CHILDREN_BACKOFF_CAP, CHILDREN_BACKOFF_BASE * 2 ** min(max(0, failures - 1), 20))


def case_children_refresh_isolated(*, case: Case, client: DebituraClient) -> bool:
    """case_children_refresh in a savepoint of its own: True when it worked.

    A failure that belongs to this case (Debitura refusing it, an answer that cannot be read or
    stored) is rolled back, recorded on the case (`children_error`, shown to admins) and backed
    off, so one bad case never holds up the rest. A case Debitura no longer shows is marked
    gone. Transient errors concern every case and are raised.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            case_children_refresh(case=case, client=client)
    except NotFound:
        Case.objects.filter(id=case.id).update(gone_at=now, children_stale=False)
        cases_changed_on_commit(case_ids=[case.id], origin=SYNC)
        return False
    except TransientError:
        raise
    except Exception as exc:
        failures = min(case.children_failures + 1, 1000)
        retry_at = now + children_backoff(failures)
        message = (
            str(exc) if isinstance(exc, DebituraError | ChildrenConflict) else f"{type(exc).__name__}: {exc}"
        )
        Case.objects.filter(id=case.id).update(
            children_error=message[:2000], children_failures=failures, children_retry_at=retry_at
        )
        log.warning(
            "children of case %s failed (%d in a row, next try after %s): %s",
            case.id,
            failures,
            retry_at.isoformat(timespec="seconds"),
            message,
            exc_info=not isinstance(exc, DebituraError | ChildrenConflict),
        )
        return False
    return True


def _children_queue(now: datetime) -> Any:
    """Stale cases in queue order, without those backed off after a failure."""
    return (
        Case.objects.filter(children_stale=True, gone_at__isnull=True)
        .filter(Q(children_retry_at__isnull=True) | Q(children_retry_at__lte=now))
        .order_by("-children_priority", "-remote_updated_at")
    )


# The beat queues a children batch every 20 s (partnerportal.settings); a batch works this long at
# most, so batches follow one another instead of piling up.
CHILDREN_BEAT_SECONDS = 20.0
CHILDREN_BATCH_SECONDS = 18.0


def agents_waiting(*, now: datetime | None = None) -> bool:
    """Whether an agent's action is on its way to Debitura (due, or being sent)."""
    now = now or timezone.now()
    return OutboxAction.objects.filter(
        Q(state=OutboxAction.State.SENDING) | Q(state=OutboxAction.State.PENDING, next_attempt_at__lte=now)
    ).exists()


def cases_children_refresh_batch(
    *, client: DebituraClient | None = None, limit: int | None = None, seconds: float = CHILDREN_BATCH_SECONDS
) -> int:
    """Refresh the children of the next stale cases in queue order, for `seconds` at most (and
    `limit` cases, when given); returns how many were tried.

    Without a client each case goes through the background client, chosen case by case: while an
    agent's action is waiting it keeps to DEBITURA_CHILDREN_SHARE of the rate limit, otherwise it
    may use DEBITURA_CHILDREN_IDLE_SHARE, the part agents leave unused. Both count in one bucket,
    so when an agent acts, the queue waits until its own share has room again.
    """
    deadline = time.monotonic() + seconds
    done = 0
    while limit is None or done < limit:
        chunk = 20 if limit is None else min(20, limit - done)
        ids = list(_children_queue(timezone.now()).values_list("id", flat=True)[:chunk])
        if not ids:
            break
        for case_id in ids:
            if done and time.monotonic() > deadline:
                return done
            spare = not agents_waiting()
            # No more than the share allows in the batch's time: a batch never sleeps long in
            # the rate limiter, holding a worker that an agent's action may need.
            if client is None and (done + 1) * CHILD_REQUESTS_PER_CASE > _children_budget(spare, seconds):
                return done
            case = Case.objects.filter(id=case_id, children_stale=True).first()
            if case is None:  # another worker got there first
                continue
            case_children_refresh_isolated(case=case, client=client or children_client(spare=spare))
            done += 1
    return done


# The rate is measured over the last ten minutes.
CHILDREN_RATE_MINUTES = 10


def children_progress_measure(*, now: datetime | None = None) -> ChildrenProgress:
    """Count the visible cases whose children were fetched at least once and the rate at which
    the rest follows (over the last minutes, or before anything was measured what the rate limit
    allows at the idle share), and keep it in the one ChildrenProgress row the pages read.

    Run by the children queue after each batch: pages never count the case table themselves.
    """
    now = now or timezone.now()
    total = sum(case_counts(include_test=True).values())  # the count triggers keep it: a few rows
    since = now - timedelta(minutes=CHILDREN_RATE_MINUTES)
    recent_filter = Q(children_synced_at__gte=since, gone_at__isnull=True)
    # One read of the children_synced_at index: the never fetched, and those of the last minutes.
    counts = Case.objects.filter(
        Q(children_synced_at__isnull=True) | Q(children_synced_at__gte=since)
    ).aggregate(
        left=Count("id", filter=Q(children_synced_at__isnull=True, gone_at__isnull=True)),
        recent=Count("id", filter=recent_filter),
        first=Min("children_synced_at", filter=recent_filter),
    )
    if counts["recent"] > 1:
        # Since the first refresh in the window, not the whole window (an import that began a
        # minute ago is not ten times as slow as it is), and at least one beat of the queue (a
        # batch is done within seconds of its start, then waits for the next).
        span = max((now - counts["first"]).total_seconds(), CHILDREN_BEAT_SECONDS) / 60
        per_minute, measured = counts["recent"] / span, True
    else:
        per_minute, measured = _children_budget(True, 60) / CHILD_REQUESTS_PER_CASE, False
    progress, _ = ChildrenProgress.objects.update_or_create(
        id=1,
        defaults={
            "done": max(0, total - counts["left"]),
            "total": total,
            "per_minute": per_minute,
            "measured": measured,
            "measured_at": now,
        },
    )
    return progress


def cases_children_queue_run(*, seconds: float = CHILDREN_BATCH_SECONDS) -> int:
    """The beat's children task: a batch, then the progress the pages show, measured again."""
    done = cases_children_refresh_batch(seconds=seconds)
    if (
        done
        or ChildrenProgress.objects.filter(id=1, done__lt=F("total")).exists()
        or not ChildrenProgress.objects.exists()
    ):
        children_progress_measure()
    return done


def _children_budget(spare: bool, seconds: float) -> float:
    """Requests the children queue may make in `seconds` at its share of the per-minute limit."""
    share = settings.DEBITURA_CHILDREN_IDLE_SHARE if spare else settings.DEBITURA_CHILDREN_SHARE
    return DEBITURA_WINDOWS[0].limit * share * seconds / DEBITURA_WINDOWS[0].seconds


def case_children_request(*, case: Case, max_age: timedelta = timedelta(minutes=3)) -> bool:
    """An agent opened the case: jump the queue when its children are older than `max_age`.

    Returns True when a refresh was queued (the page then polls for it).
    """
    fresh = case.children_synced_at is not None and case.children_synced_at > timezone.now() - max_age
    if fresh and not case.children_stale:
        return False
    updated = (
        Case.objects.filter(id=case.id)
        .filter(~Q(children_priority=ChildPriority.OPENED_BY_AGENT) | Q(children_stale=False))
        .update(children_stale=True, children_priority=ChildPriority.OPENED_BY_AGENT)
    )
    if updated:
        # Queued by name: cases.tasks imports this module.
        transaction.on_commit(lambda: signature("cases.refresh_case_children", args=(str(case.id),)).delay())
    return True


_children_clients: dict[tuple[int, bool], DebituraClient] = {}


def children_client(*, spare: bool = False) -> DebituraClient:
    """A client whose requests count against a capped share of the key's rate limit: the
    children share, or with `spare` the larger one for when no agent's action is waiting."""
    slot = (os.getpid(), spare)
    if slot not in _children_clients:
        idle, busy = settings.DEBITURA_CHILDREN_IDLE_SHARE, settings.DEBITURA_CHILDREN_SHARE
        # While agents act, the minute keeps to the children share; the hour and the day keep to
        # the idle one, or an import that ran at the idle share for an hour would stop for the next.
        share = idle if spare else (busy, idle, idle)
        _children_clients[slot] = client_from_settings(share=("children", share))
    return _children_clients[slot]
