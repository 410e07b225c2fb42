"""The dashboard's panels that read the work list (my due and overdue tasks) and the promises
(kept, broken and open per agent)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from promises.models import Promise, PromiseStatus
from tests.fixtures.factories import CaseFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def promise(case, agent, status):
    return Promise.objects.create(
        case=case,
        amount=Decimal("100.00"),
        currency="EUR",
        first_due=date.today() + timedelta(days=7),
        made_by="The debtor",
        channel=Promise.Channel.PHONE,
        recorded_by=agent,
        status=status,
    )


def test_an_agent_sees_their_due_and_overdue_tasks_by_kind_and_not_another_agents(client, agent):
    other = UserFactory(username="olga", role="Agent")
    now = timezone.now()
    mine = CaseFactory(assigned_to=agent)
    TaskFactory(case=mine, assignee=agent, kind="reply_creditor", due_at=now - timedelta(hours=2))
    TaskFactory(case=mine, assignee=agent, kind="reply_creditor", due_at=now + timedelta(minutes=1))
    TaskFactory(case=CaseFactory(), assignee=None, kind="verify_assignment", due_at=now - timedelta(days=1))
    TaskFactory(case=CaseFactory(assigned_to=other), assignee=other, kind="progress_update", due_at=now)
    TaskFactory(case=mine, assignee=agent, kind="exclusivity_ending", due_at=now + timedelta(days=20))
    client.force_login(agent)

    rows = {row["kind"]: row for row in client.get(reverse("dashboard")).context["tasks_due"]}

    assert set(rows) == {"reply_creditor", "verify_assignment"}  # not another's, not due in 20 days
    assert (rows["reply_creditor"]["due"], rows["reply_creditor"]["overdue"]) == (1, 1)
    assert (rows["verify_assignment"]["due"], rows["verify_assignment"]["overdue"]) == (0, 1)
    assert rows["reply_creditor"]["url"] == reverse("worklist:inbox") + "?kind=reply_creditor"


def test_promises_per_agent_equal_the_promise_rows_of_the_period(client, supervisor, agent):
    other = UserFactory(username="olga", first_name="Olga", last_name="Other", role="Agent")
    case = CaseFactory()
    for status in (PromiseStatus.KEPT, PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED):
        promise(case, agent, status)
    promise(case, other, PromiseStatus.OPEN)
    old = promise(case, other, PromiseStatus.BROKEN)
    Promise.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    client.force_login(supervisor)

    rows = client.get(reverse("dashboard"), {"period": "12m"}).context["promises"]

    by_agent = {row["agent"]: (row["kept"], row["broken"], row["open"]) for row in rows}
    assert by_agent == {agent.get_full_name() or agent.username: (2, 1, 0), "Olga Other": (0, 0, 1)}
    mine = next(row for row in rows if row["agent"] != "Olga Other")
    assert mine["rate"] == 67  # 2 kept of 3 decided
    assert [(m["kept"], m["broken"], m["open"]) for m in mine["months"]] == [(2, 1, 0)]
    assert next(row for row in rows if row["agent"] == "Olga Other")["rate"] is None  # nothing decided
    page = client.get(reverse("dashboard"), {"period": "12m"}).content.decode()
    assert "Promises to pay" in page
    assert "67%" in page
