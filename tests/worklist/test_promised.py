"""Promises to pay in the inbox: an instalment coming due and a broken promise are tasks, and they
leave when the promise is kept, changed or cancelled.

The promises are recorded on a case synced from the emulator and relayed to it as notes; the
tasks follow through cases_changed after each commit (the writes run inside
django_capture_on_commit_callbacks(execute=True), as a commit would run them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.sla import business_deadline
from outbox.models import OutboxAction
from payments.actions import payment_record
from promises.actions import promise_cancel, promise_change, promise_record
from promises.evaluation import promises_evaluate_all
from promises.models import Promise, PromiseStatus
from tests.fixtures.outbox import reload
from tests.promises.conftest import promise_values
from worklist.models import Task
from worklist.services import tasks_refresh, tasks_show_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

TODAY = timezone.localdate()


def tasks(case: Any, kind: str) -> list[Task]:
    return list(Task.objects.filter(case_id=case.pk, kind=kind))


def end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def record(case: Any, actor: Any, days: int, **overrides: Any) -> Promise:
    values = promise_values(
        amount=Decimal("100"), instalments=1, interval="", first_due=TODAY + timedelta(days=days), note=""
    )
    return promise_record(case=case, actor=actor, **{**values, **overrides})


def test_a_promise_due_soon_is_a_task_that_opens_the_promise_and_leaves_once_paid(
    settings, emulator, team_agent, active_case, committed, relay
):
    settings.PROMISE_GRACE_DAYS = 3
    with committed():
        promise = record(active_case, team_agent, 2)

    (task,) = tasks(active_case, "promise_due")
    assert task.visible
    assert task.due_at == end_of(TODAY + timedelta(days=2 + 3))  # the last day of grace
    assert task.reason.startswith("Jane Debtor (accounts payable) promised 100")
    assert f"by {(TODAY + timedelta(days=2)).isoformat()}" in task.reason
    assert task.url == reverse("promises:detail", args=[promise.pk])
    assert task.action == "Open the promise"

    with committed():
        relay()
    assert reload(promise.action).state == OutboxAction.State.DONE
    (note,) = emulator.requests(method="POST", template="/cases/{id}/notes")
    assert note.body["description"].startswith("Promise to pay: 100")

    with committed():
        payment_record(
            case=active_case,
            actor=team_agent,
            date=TODAY,
            amount=Decimal("100"),
            recipient="CollectionPartner",
        )
    assert Promise.objects.get(pk=promise.pk).status == PromiseStatus.KEPT
    assert tasks(active_case, "promise_due") == []  # at once, in the agent's request


def test_a_promise_further_ahead_is_stored_and_shown_a_week_before_its_date(
    team_agent, active_case, committed
):
    with committed():
        record(active_case, team_agent, 20)

    (task,) = tasks(active_case, "promise_due")
    assert not task.visible
    assert task.visible_from == timezone.make_aware(datetime.combine(TODAY + timedelta(days=13), time.min))

    tasks_show_due(now=task.visible_from)
    assert reload(task).visible


def test_a_broken_promise_is_a_broken_task_until_cancelled(settings, team_agent, active_case, committed):
    settings.PROMISE_GRACE_DAYS = 0
    with committed():
        promise = record(active_case, team_agent, 1)
    assert len(tasks(active_case, "promise_due")) == 1

    # The daily evaluation two days later: the instalment's grace ended unpaid.
    with committed():
        promises_evaluate_all(today=TODAY + timedelta(days=2))

    assert tasks(active_case, "promise_due") == []
    (task,) = tasks(active_case, "promise_broken")
    broke = end_of(TODAY + timedelta(days=1))
    assert task.due_at == business_deadline(broke, timedelta(days=1))
    assert task.visible_from == broke
    assert "Promise broken: 100" in task.reason
    assert "not paid" in task.reason
    assert task.url == reverse("promises:detail", args=[promise.pk])

    with committed():
        promise_cancel(promise=promise, actor=team_agent, reason="The debtor is insolvent.")
    assert tasks(active_case, "promise_broken") == []
    assert tasks(active_case, "promise_due") == []


def test_changing_a_promise_moves_its_task_to_the_new_date(team_agent, active_case, committed):
    with committed():
        promise = record(active_case, team_agent, 2)
    with committed():
        promise_change(
            promise=promise,
            actor=team_agent,
            reason="Salary comes later this month.",
            **promise_values(
                amount=Decimal("100"),
                instalments=1,
                interval="",
                first_due=TODAY + timedelta(days=5),
                note="",
            ),
        )

    (task,) = tasks(active_case, "promise_due")
    assert f"by {(TODAY + timedelta(days=5)).isoformat()}" in task.reason


def test_promises_on_a_closed_case_make_no_task(team_agent, active_case, committed):
    with committed():
        record(active_case, team_agent, 2)
    type(active_case).objects.filter(pk=active_case.pk).update(lifecycle="Closed")

    tasks_refresh(case_ids=[active_case.pk])  # as the sync's cases_changed does
    assert tasks(active_case, "promise_due") == []
