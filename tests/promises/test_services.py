"""What other pages read from the promises: tasks (due, broken) and the kept rate per agent and month."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.roles import AGENT
from promises.actions import promise_cancel, promise_record
from promises.evaluation import promises_evaluate
from promises.models import Promise, PromiseStatus
from promises.services import promise_kept_rates, promises_open_tasks
from tests.fixtures.factories import CaseFactory, PaymentFactory, UserFactory
from tests.promises.conftest import promise_values

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def one_off(case, agent, days: int, **kwargs) -> Promise:
    return promise_record(
        case=case,
        actor=agent,
        **promise_values(
            amount=Decimal("100.00"), instalments=1, first_due=TODAY + timedelta(days=days), **kwargs
        ),
    )


def test_an_instalment_coming_due_is_a_task_and_leaves_when_paid(agent):
    case = CaseFactory()
    promise = one_off(case, agent, 5)
    far = one_off(CaseFactory(), agent, 30)  # not due within a week: no task yet

    tasks = promises_open_tasks(case_ids=[case.pk, far.case_id])
    assert [(t.case_id, t.promise_id, t.kind) for t in tasks] == [(case.pk, promise.pk, "promise_due")]
    assert "Jane Debtor (accounts payable) promised 100.00 EUR" in tasks[0].reason
    assert tasks[0].instalment_id == promise.schedule.get().pk

    PaymentFactory(case=case, date=TODAY, amount=Decimal("100.00"))
    promises_evaluate(case_ids=[case.pk])
    assert promises_open_tasks(case_ids=[case.pk]) == []


def test_a_broken_promise_is_a_task_until_cancelled_or_replaced(agent, settings):
    settings.PROMISE_GRACE_DAYS = 0
    case, other = CaseFactory(), CaseFactory()
    broken = one_off(case, agent, 1)
    replaced = one_off(other, agent, 1)
    for promise in (broken, replaced):
        promises_evaluate(case_ids=[promise.case_id], today=TODAY + timedelta(days=2))

    tasks = promises_open_tasks(case_ids=[case.pk, other.pk], today=TODAY + timedelta(days=2))
    assert Counter(t.kind for t in tasks) == {"promise_broken": 2}
    assert "was not paid by the end of its grace" in tasks[0].reason

    promise_cancel(promise=broken, actor=agent, reason="Debtor insolvent.")
    newer = one_off(other, agent, 9)
    Promise.objects.filter(pk=newer.pk).update(created_at=timezone.now() + timedelta(minutes=1))

    kinds = [
        (t.promise_id, t.kind)
        for t in promises_open_tasks(case_ids=[case.pk, other.pk], today=TODAY + timedelta(days=2))
    ]
    assert kinds == [(newer.pk, "promise_due")]


def test_promises_on_closed_cases_make_no_task(agent):
    case = CaseFactory()
    one_off(case, agent, 2)
    case.__class__.objects.filter(pk=case.pk).update(lifecycle="Closed")

    assert promises_open_tasks(case_ids=[case.pk]) == []


def test_kept_rates_equal_the_counts_over_the_promise_rows(agent, settings):
    settings.PROMISE_GRACE_DAYS = 0
    other = UserFactory(username="other-agent", first_name="Olga", last_name="Other", role=AGENT)
    months = [datetime(2026, 9, 14, 12, tzinfo=UTC), datetime(2026, 10, 3, 12, tzinfo=UTC)]
    made = []
    for i in range(12):
        who = agent if i % 3 else other
        case = CaseFactory()
        promise = one_off(case, who, 1)
        if i % 4 == 0:
            PaymentFactory(case=case, date=TODAY + timedelta(days=1), amount=Decimal("100.00"))
        if i == 5:
            promise_cancel(promise=promise, actor=who, reason="Recorded on the wrong case.")
        promises_evaluate(case_ids=[case.pk], today=TODAY + timedelta(days=(3 if i % 2 else 0)))
        Promise.objects.filter(pk=promise.pk).update(created_at=months[i % 2] + timedelta(hours=i))
        made.append(promise.pk)

    rows = promise_kept_rates(since=datetime(2026, 9, 1, tzinfo=UTC), until=datetime(2026, 11, 1, tzinfo=UTC))

    expected: Counter = Counter()
    for promise in Promise.objects.exclude(status=PromiseStatus.CANCELLED).annotate(
        month=TruncMonth("created_at")
    ):
        expected[(promise.recorded_by_id, promise.month.date(), promise.status)] += 1
    got: Counter = Counter()
    for row in rows:
        for status in ("kept", "broken", "open"):
            if getattr(row, status):
                got[(row.agent_id, row.month, status)] = getattr(row, status)
    assert got == expected
    assert sum(r.kept + r.broken + r.open for r in rows) == 11  # twelve made, one cancelled
    assert {r.kept for r in rows} != {0}
    assert {r.broken for r in rows} != {0}
    assert {r.agent for r in rows} == {"Olga Other", agent.get_full_name() or agent.username}
    assert all(r.kept_rate is None or 0 <= r.kept_rate <= 1 for r in rows)
    assert (
        promise_kept_rates(since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 12, 1, tzinfo=UTC))
        == []
    )
