"""Rebuilding the dashboard's summary rows (dashboard.models) from the local copy.

Why a periodic rebuild and not triggers like cases_casecount: the SLA figures need business time
(weekends skipped, in the portal's time zone) and the order of chat messages and notes, which
triggers cannot compute; the sync writes cases and children in bulk, past model signals. So a
beat task (DASHBOARD_REFRESH_SECONDS) reads the last twelve months of cases, payments, chat and
notes once, in the worker, and swaps in the few hundred rows the page reads. The page's cost then
depends on the period and the number of agents, never on the number of cases; its figures are as
of the last rebuild, and the page says when that was. Only the lifecycle counts are live (they
read cases_casecount, as the case list's tabs do).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases.models import Case, ChatMessage, LifecycleChoices, TimelineItem
from dashboard.models import AssignmentWeek, ExclusivityEnding, RecoveredMonth, SlaMonth, SummaryRefresh
from dashboard.periods import PERIODS, month_start, week_start
from dashboard.sla import UPDATE_EVERY, Outcome, reply_outcomes, update_outcomes, verify_outcome
from outbox.models import OutboxAction
from partnerportal.locks import LockBusy, named_lock
from payments.models import Payment

log = logging.getLogger(__name__)

EXCLUSIVITY_DAYS = 30
OPEN = (LifecycleChoices.ACTIVE, LifecycleChoices.PAUSED, LifecycleChoices.NEEDS_ADDITIONAL_DETAILS)
# Waiting for the creditor, not for the agency: the verification clock does not run against it.
WAITING_ON_CREDITOR = (LifecycleChoices.NEEDS_ADDITIONAL_DETAILS, LifecycleChoices.LEADS)
CHUNK = 2000


def summaries_since(today: date) -> date:
    """The first day the summaries cover: the start of the longest period the chooser offers."""
    return month_start(today, max(months for _, months in PERIODS.values()) - 1)


def dashboard_summaries_refresh(*, now: datetime | None = None) -> SummaryRefresh | None:
    """Rebuild every summary row from the local copy and record when (one transaction: readers
    see the old rows or the new ones, never half). None when a rebuild is already running: two at
    once would both insert their rows."""
    try:
        with named_lock("dashboard:summaries", wait=False):
            return _rebuild(now or timezone.now())
    except LockBusy:
        log.info("Dashboard summaries: a rebuild is already running")
        return None


def _rebuild(now: datetime) -> SummaryRefresh:
    started = time.perf_counter()
    since = summaries_since(timezone.localdate(now))
    recovered = _recovered(since)
    weeks, verify = _verifications(since, now)
    sla = _sla_months(verify, _replies(since, now), _updates(since, now), since)
    ending = _exclusivity_ending(now)
    with transaction.atomic():
        for model in (RecoveredMonth, AssignmentWeek, SlaMonth, ExclusivityEnding):
            model.objects.all().delete()
        RecoveredMonth.objects.bulk_create(recovered)
        AssignmentWeek.objects.bulk_create(weeks)
        SlaMonth.objects.bulk_create(sla)
        ExclusivityEnding.objects.bulk_create(ending)
        seconds = time.perf_counter() - started
        refresh, _ = SummaryRefresh.objects.update_or_create(
            id=1, defaults={"refreshed_at": now, "since": since, "seconds": seconds}
        )
    log.info("Dashboard summaries rebuilt in %.1f s", seconds)
    return refresh


def _recovered(since: date) -> list[RecoveredMonth]:
    # Recovered: every payment the debtor made, whoever received it (the agency, the creditor
    # directly, Debitura), by its payment date; failed ones never reached Debitura and are left
    # out, exactly as the ledger's totals leave them out (payments.services.payments_totals).
    rows = (
        Payment.objects.exclude(state=Payment.State.FAILED)
        .filter(date__gte=since)
        .order_by()
        .annotate(month=TruncMonth("date"))
        .values("month", "currency", "case__assigned_to_id")
        .annotate(payments=Count("id"), amount=Sum("amount"))
    )
    return [
        RecoveredMonth(
            month=row["month"],
            currency=row["currency"],
            agent=row["case__assigned_to_id"] or 0,
            payments=row["payments"],
            amount=row["amount"] or Decimal(0),
        )
        for row in rows
    ]


def _verifications(since: date, now: datetime) -> tuple[list[AssignmentWeek], list[tuple[Outcome, int]]]:
    """New assignments per week and each one's verification outcome with its agent.

    Debitura assigned the case at its dateCreated (the clock the case list shows). It was decided
    when Debitura stamped dateCollectionStarted (accepted: the start's activatedAt) or, for a case
    closed without ever being started, dateFinished (declined); an accept or decline written here
    and still on its way to Debitura counts from the moment the agent sent it. The agent is whoever
    accepted or declined here, else the case's assignee.
    """
    first = timezone.make_aware(datetime.combine(week_start(since), datetime.min.time()))
    cases = (
        Case.objects.filter(date_created__gte=first, is_test_case=False)
        .order_by()
        .values_list(
            "id", "date_created", "lifecycle", "date_collection_started", "date_finished", "assigned_to_id"
        )
    )
    decisions: dict[Any, tuple[datetime, int | None]] = {}
    actions = (
        OutboxAction.objects.filter(
            kind__in=(OutboxAction.Kind.ACCEPT, OutboxAction.Kind.DECLINE),
            case__date_created__gte=first,
            state__in=(OutboxAction.State.PENDING, OutboxAction.State.SENDING, OutboxAction.State.DONE),
        )
        .order_by("created_at")
        .values_list("case_id", "created_at", "actor_id", "state")
    )
    on_the_way: dict[Any, datetime] = {}
    for case_id, created_at, actor_id, state in actions:
        decisions.setdefault(case_id, (created_at, actor_id))
        if state != OutboxAction.State.DONE:
            on_the_way.setdefault(case_id, created_at)
    weeks: dict[date, AssignmentWeek] = {}
    outcomes = []
    for case_id, assigned_at, lifecycle, started, finished, assignee in cases.iterator(chunk_size=CHUNK):
        if assigned_at is None:  # pragma: no cover  (the filter leaves none out; for the type checker)
            continue
        decided_at = started or (finished if lifecycle == LifecycleChoices.CLOSED else None)
        decided_at = decided_at or on_the_way.get(case_id)
        outcome = verify_outcome(assigned_at=assigned_at, decided_at=decided_at, now=now)
        if decided_at is None and lifecycle in WAITING_ON_CREDITOR:
            outcome = Outcome(at=assigned_at, on_time=None)
        monday = week_start(timezone.localdate(assigned_at))
        week = weeks.setdefault(monday, AssignmentWeek(week=monday))
        week.assigned += 1
        if outcome.on_time is None:
            week.waiting += 1
        elif outcome.on_time:
            week.on_time += 1
        else:
            week.late += 1
        if outcome.took is not None:
            week.decided += 1
            week.decided_seconds += int(outcome.took.total_seconds())
        agent = decisions.get(case_id, (None, None))[1] or assignee or 0
        outcomes.append((outcome, agent))
    return list(weeks.values()), outcomes


def _replies(since: date, now: datetime) -> Iterator[tuple[Outcome, int]]:
    """Creditor messages answered (or not) within 48 business hours, per case's assignee."""
    first = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    messages = (
        ChatMessage.objects.filter(date_created__gte=first, case__is_test_case=False)
        .order_by("case_id", "date_created")
        .values_list("case_id", "case__assigned_to_id", "date_created", "role")
    )
    for (_, assignee), rows in groupby(messages.iterator(chunk_size=CHUNK), key=lambda row: row[:2]):
        thread = [(sent, role != ChatMessage.Role.PARTNER) for _, _, sent, role in rows if sent is not None]
        for outcome in reply_outcomes(thread, now=now):
            yield outcome, assignee or 0


def _updates(since: date, now: datetime) -> Iterator[tuple[Outcome, int]]:
    """Progress notes every 30 days on accepted cases that were Active in the period, per assignee.

    A note older than 30 days before the period can only decide deadlines before it, so notes are
    read from then on; a case with none since then counts its deadlines from its acceptance.
    """
    first = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    cases = (
        Case.objects.filter(date_collection_started__isnull=False, is_test_case=False)
        .filter(Q(lifecycle=LifecycleChoices.ACTIVE) | Q(date_finished__gte=first))
        .order_by("id")
        .values_list("id", "lifecycle", "date_collection_started", "date_finished", "assigned_to_id")
    )
    notes = (
        TimelineItem.objects.filter(type="Note", date__gte=first - UPDATE_EVERY, case__is_test_case=False)
        .order_by("case_id")
        .values_list("case_id", "date")
    )
    by_case: dict[Any, list[datetime]] = defaultdict(list)
    for case_id, when in notes.iterator(chunk_size=CHUNK):
        if when is not None:
            by_case[case_id].append(when)
    for case_id, lifecycle, started, finished, assignee in cases.iterator(chunk_size=CHUNK):
        if started is None:  # pragma: no cover  (the filter leaves none out; for the type checker)
            continue
        if lifecycle == LifecycleChoices.ACTIVE:
            until: datetime | None = now
        elif lifecycle == LifecycleChoices.CLOSED:
            until = finished
        else:
            until = None
        for outcome in update_outcomes(started_at=started, notes=by_case.get(case_id, ()), until=until):
            yield outcome, assignee or 0


def _sla_months(
    verify: list[tuple[Outcome, int]],
    replies: Iterator[tuple[Outcome, int]],
    updates: Iterator[tuple[Outcome, int]],
    since: date,
) -> list[SlaMonth]:
    rows: dict[tuple[str, date, int], SlaMonth] = {}
    kinds = ((SlaMonth.Kind.VERIFY, verify), (SlaMonth.Kind.REPLY, replies), (SlaMonth.Kind.UPDATE, updates))
    for kind, outcomes in kinds:
        for outcome, agent in outcomes:
            if outcome.on_time is None:
                continue
            month = month_start(timezone.localdate(outcome.at))
            if month < since:
                continue
            row = rows.setdefault((kind, month, agent), SlaMonth(kind=kind, month=month, agent=agent))
            if outcome.on_time:
                row.on_time += 1
            else:
                row.late += 1
    return list(rows.values())


def _exclusivity_ending(now: datetime) -> list[ExclusivityEnding]:
    cases = Case.objects.filter(
        exclusive_period_end__gte=now,
        exclusive_period_end__lt=now + timedelta(days=EXCLUSIVITY_DAYS),
        lifecycle__in=OPEN,
        gone_at__isnull=True,
        is_test_case=False,
    ).values_list("id", "exclusive_period_end", "assigned_to_id", "reference", "debtor_name")
    return [
        ExclusivityEnding(case_id=pk, ends_at=ends, agent=agent or 0, reference=reference, debtor_name=debtor)
        for pk, ends, agent, reference, debtor in cases
        if ends is not None
    ]
