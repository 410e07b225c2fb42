"""Kept or broken: the payments recorded on a case, allocated to its promises' instalments.

Stored as summary state (Promise.status, PromiseInstalment.status/paid/kept_on) and written here
only: when a payment is saved or deleted (promises.receivers), after a children refresh brought
Debitura's payments (the sweep in promises.tasks), and daily for time passing.

The rule: payments (confirmed, or recorded here and on their way) in the promise's currency,
dated on or after the day the promise was made, go in date order to the earliest instalment that
still needs money and whose deadline (due date + PROMISE_GRACE_DAYS) the payment is not past.
An instalment is kept once covered, broken once its deadline passed uncovered; a promise is kept
when every instalment is, broken when any is. Money that comes too late for one instalment goes
to the next; a partly paid instalment is open until covered or broken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.changes import SYNC, Origin, cases_changed_on_commit
from payments.models import Payment
from promises.models import Promise, PromiseInstalment, PromiseStatus

# Payments that count: Debitura has them, or an agent recorded them and they are on their way.
# A failed one or one being deleted does not.
COUNTED = (Payment.State.CONFIRMED, Payment.State.PENDING)
BATCH = 500


def grace() -> timedelta:
    return timedelta(days=settings.PROMISE_GRACE_DAYS)


def instalment_deadline(due_date: date) -> date:
    """The last day a payment still keeps an instalment due on `due_date`."""
    return due_date + grace()


def _allocate(
    promises: list[Promise], payments: list[tuple[date, Decimal, str]], today: date
) -> list[tuple[Promise, list[tuple[PromiseInstalment, Decimal, str, date | None]]]]:
    """Each promise with each instalment's new (paid, status, kept_on)."""
    made_on = {p.pk: timezone.localtime(p.created_at).date() for p in promises}
    rows = sorted(
        ((i, p) for p in promises for i in p.schedule.all()),
        key=lambda row: (row[0].due_date, row[1].created_at, row[1].pk, row[0].position),
    )
    need = {i.pk: i.amount for i, _ in rows}
    kept_on: dict[int, date] = {}
    for when, amount, currency in payments:  # in date order
        left = amount
        for instalment, promise in rows:
            if left <= 0:
                break
            if (
                need[instalment.pk] <= 0
                or promise.currency != currency  # never mixed across currencies
                or when < made_on[promise.pk]
                or when > instalment_deadline(instalment.due_date)  # too late to keep it
            ):
                continue
            take = min(left, need[instalment.pk])
            need[instalment.pk] -= take
            left -= take
            if need[instalment.pk] <= 0:
                kept_on[instalment.pk] = when
    result = []
    for promise in promises:
        outcome: list[tuple[PromiseInstalment, Decimal, str, date | None]] = []
        for instalment in promise.schedule.all():
            if need[instalment.pk] <= 0:
                status: str = PromiseStatus.KEPT
            elif today > instalment_deadline(instalment.due_date):
                status = PromiseStatus.BROKEN
            else:
                status = PromiseStatus.OPEN
            outcome.append(
                (instalment, instalment.amount - need[instalment.pk], status, kept_on.get(instalment.pk))
            )
        result.append((promise, outcome))
    return result


def _promise_status(statuses: list[str]) -> str:
    if statuses and all(s == PromiseStatus.KEPT for s in statuses):
        return PromiseStatus.KEPT
    if any(s == PromiseStatus.BROKEN for s in statuses):
        return PromiseStatus.BROKEN
    return PromiseStatus.OPEN


def promises_evaluate(
    *,
    case_ids: Iterable[UUID | str],
    today: date | None = None,
    now: datetime | None = None,
    origin: Origin = SYNC,
) -> int:
    """Bring the stored kept/broken state of these cases' promises up to date; returns how many
    promises changed. Cancelled promises keep their state.

    The cases whose promises changed are announced with cases_changed once committed (the
    writes are bulk updates, which send no model signals): the work list's promise tasks follow.
    `origin` AGENT when a person's action caused it (refreshed at once), else SYNC (in the
    background: the daily run may change thousands)."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    ids = list(dict.fromkeys(str(c) for c in case_ids))
    changed = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with transaction.atomic():
            cases = _evaluate_batch(batch, today=today, now=now)
            cases_changed_on_commit(case_ids=cases, origin=origin)
            changed += len(cases)
    return changed


def _evaluate_batch(case_ids: list[str], *, today: date, now: datetime) -> list[Any]:
    """Evaluate and write; the case of each promise that changed (once per promise)."""
    promises = list(
        Promise.objects.filter(case_id__in=case_ids)
        .exclude(status=PromiseStatus.CANCELLED)
        .prefetch_related("schedule")
        .order_by("created_at", "pk")
    )
    if not promises:
        return []
    by_case: dict[Any, list[Promise]] = defaultdict(list)
    for promise in promises:
        by_case[promise.case_id].append(promise)
    payments: dict[Any, list[tuple[date, Decimal, str]]] = defaultdict(list)
    for case_id, when, amount, currency in (
        Payment.objects.filter(case_id__in=list(by_case), state__in=COUNTED)
        .order_by("date", "pk")
        .values_list("case_id", "date", "amount", "currency")
    ):
        payments[case_id].append((when, amount, currency.upper()))
    instalments_changed: list[PromiseInstalment] = []
    promises_changed: list[Promise] = []
    for case_id, case_promises in by_case.items():
        for promise, outcome in _allocate(case_promises, payments[case_id], today):
            moved = False
            for instalment, paid, status, kept_on in outcome:
                if (instalment.paid, instalment.status, instalment.kept_on) != (paid, status, kept_on):
                    instalment.paid, instalment.status, instalment.kept_on = paid, status, kept_on
                    instalments_changed.append(instalment)
                    moved = True
            status = _promise_status([s for _, _, s, _ in outcome])
            if status != promise.status:
                promise.status = status
                moved = True
            promise.evaluated_at = now
            if moved:
                promise.updated_at = now  # moves the case page's live stamp
                promises_changed.append(promise)
    PromiseInstalment.objects.bulk_update(instalments_changed, ["paid", "status", "kept_on"])
    Promise.objects.filter(pk__in=[p.pk for p in promises]).update(evaluated_at=now)
    Promise.objects.bulk_update(promises_changed, ["status", "updated_at"])
    return [p.case_id for p in promises_changed]


def promises_evaluate_all(*, stale_since_sync: bool = False, today: date | None = None) -> int:
    """Evaluate every case with a promise that is not cancelled (the daily run), or only those
    whose children were refreshed since they were last evaluated (the sweep: Debitura's payments
    are written in bulk, without the signals promises.receivers listens to)."""
    promises = Promise.objects.exclude(status=PromiseStatus.CANCELLED)
    if stale_since_sync:
        promises = promises.filter(
            Q(evaluated_at__isnull=True)
            | Q(case__children_synced_at__gt=F("evaluated_at"))
            | Q(case__payments__synced_at__gt=F("evaluated_at"))
        )
    case_ids = list(promises.order_by().values_list("case_id", flat=True).distinct())
    return promises_evaluate(case_ids=case_ids, today=today)
