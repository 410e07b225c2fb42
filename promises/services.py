"""Reads over the stored promise state for other pages: the tasks a promise makes (for the
worklist) and the kept rate per agent and month (for the dashboard). Neither evaluates anything:
promises.evaluation keeps the state they read current.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases.actions import WORKABLE
from partnerportal.money import money_text
from promises.evaluation import instalment_deadline
from promises.models import Promise, PromiseInstalment, PromiseStatus

DUE, BROKEN = "promise_due", "promise_broken"
# An open instalment becomes a "promise due" task this many days before its due date.
DUE_NOTICE_DAYS = 7


@dataclass(frozen=True)
class PromiseTask:
    """One thing to do about a promise: an instalment coming due, or a promise broken."""

    case_id: UUID
    promise_id: int
    instalment_id: int
    kind: str  # "promise_due" | "promise_broken"
    due_at: datetime
    reason: str
    # When it is worth showing: DUE_NOTICE_DAYS before the instalment's due date; a broken
    # promise from the moment its grace ended.
    notice_from: datetime


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max.replace(microsecond=0)))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def promises_open_tasks(
    *,
    case_ids: Iterable[UUID | str] | None = None,
    today: date | None = None,
    coming_only: bool = True,
    kinds: Collection[str] = (DUE, BROKEN),
) -> list[PromiseTask]:
    """Tasks from the stored state, for cases still worked: each open promise's next instalment
    when it is due within DUE_NOTICE_DAYS (or due and still in its grace), and each broken
    promise that no later promise on its case replaced (cancelling or changing it ends the task).

    `coming_only=False` gives every open promise's next instalment whatever its date, for a
    reader that stores the tasks ahead and shows each from its `notice_from` (the work list);
    `kinds` the ones wanted (one query each)."""
    today = today or timezone.localdate()
    instalments = PromiseInstalment.objects.filter(promise__case__lifecycle__in=list(WORKABLE))
    if case_ids is not None:
        instalments = instalments.filter(promise__case_id__in=[str(c) for c in case_ids])
    tasks: list[PromiseTask] = []
    due = instalments.filter(promise__status=PromiseStatus.OPEN, status=PromiseStatus.OPEN)
    if coming_only:
        due = due.filter(due_date__lte=today + timedelta(days=DUE_NOTICE_DAYS))
    due = due.select_related("promise").order_by("promise_id", "position")
    seen: set[int] = set()
    for instalment in due if DUE in kinds else ():
        promise = instalment.promise
        if promise.pk in seen:
            continue  # the next one only
        seen.add(promise.pk)
        left = instalment.amount - instalment.paid
        # "(instalment 2 of 3)"; a promise of one payment says nothing of instalments.
        which = (
            f" (instalment {instalment.position} of {promise.instalments})" if promise.instalments > 1 else ""
        )
        tasks.append(
            PromiseTask(
                case_id=promise.case_id,
                promise_id=promise.pk,
                instalment_id=instalment.pk,
                kind=DUE,
                due_at=_end_of(instalment_deadline(instalment.due_date)),
                reason=f"{promise.made_by} promised {money_text(left, promise.currency)}{which} "
                f"by {instalment.due_date.isoformat()}.",
                notice_from=_start_of(instalment.due_date - timedelta(days=DUE_NOTICE_DAYS)),
            )
        )
    later = Promise.objects.filter(
        case_id=OuterRef("promise__case_id"), created_at__gt=OuterRef("promise__created_at")
    ).exclude(status=PromiseStatus.CANCELLED)
    broken = (
        instalments.filter(promise__status=PromiseStatus.BROKEN, status=PromiseStatus.BROKEN)
        .exclude(Exists(later))
        .select_related("promise")
        .order_by("promise_id", "position")
    )
    seen.clear()
    for instalment in broken if BROKEN in kinds else ():
        promise = instalment.promise
        if promise.pk in seen:
            continue  # the first broken instalment says why
        seen.add(promise.pk)
        paid = money_text(instalment.paid, promise.currency)
        broke_at = _end_of(instalment_deadline(instalment.due_date))
        tasks.append(
            PromiseTask(
                case_id=promise.case_id,
                promise_id=promise.pk,
                instalment_id=instalment.pk,
                kind=BROKEN,
                due_at=broke_at,
                reason=f"Promise broken: {money_text(instalment.amount, promise.currency)} due "
                f"{instalment.due_date.isoformat()} (instalment {instalment.position}) was "
                f"{'paid only ' + paid if instalment.paid else 'not paid'}"
                " by the end of its grace. Call the debtor, then change or cancel the promise.",
                notice_from=broke_at,
            )
        )
    return sorted(tasks, key=lambda t: t.due_at)


@dataclass(frozen=True)
class KeptRate:
    """Promises one agent recorded in one month, by where they stand now (cancelled ones left out)."""

    agent_id: int | None
    agent: str
    month: date
    kept: int
    broken: int
    open: int

    @property
    def kept_rate(self) -> float | None:
        """Kept among the decided ones (kept or broken); None while none is decided."""
        decided = self.kept + self.broken
        return self.kept / decided if decided else None


def promise_kept_rates(*, since: datetime, until: datetime) -> list[KeptRate]:
    """Kept, broken and open promises per recording agent and per month the promise was recorded
    (in the portal's time zone), for promises recorded in [since, until)."""
    rows: Any = (
        Promise.objects.filter(created_at__gte=since, created_at__lt=until)
        .exclude(status=PromiseStatus.CANCELLED)
        .annotate(month=TruncMonth("created_at"))
        .values(
            "recorded_by",
            "recorded_by__username",
            "recorded_by__first_name",
            "recorded_by__last_name",
            "month",
        )
        .annotate(
            kept=Count("pk", filter=Q(status=PromiseStatus.KEPT)),
            broken=Count("pk", filter=Q(status=PromiseStatus.BROKEN)),
            open=Count("pk", filter=Q(status=PromiseStatus.OPEN)),
        )
        .order_by("month", "recorded_by__username")
    )
    result = []
    for row in rows:
        name = f"{row['recorded_by__first_name']} {row['recorded_by__last_name']}".strip()
        month = row["month"]
        result.append(
            KeptRate(
                agent_id=row["recorded_by"],
                agent=name or row["recorded_by__username"] or "(deleted user)",
                month=month.date() if isinstance(month, datetime) else month,
                kept=row["kept"],
                broken=row["broken"],
                open=row["open"],
            )
        )
    return result
