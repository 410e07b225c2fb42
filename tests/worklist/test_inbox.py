"""The inbox page: who sees which tasks, filters, pages, reassigning, the navigation's count, and
query budgets that do not grow with the number of cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import AGENT
from cases.models import Case
from outbox.models import OutboxAction
from tests.fixtures.factories import CaseFactory, TaskFactory
from worklist.inbox import NAV_CAP, PAGE_SIZE
from worklist.models import Task

pytestmark = pytest.mark.django_db

INBOX = reverse("worklist:inbox")


def task_on(assignee: Any = None, **kwargs: Any) -> Any:
    """A task on a new case assigned to `assignee` (None: unassigned)."""
    case = CaseFactory(assigned_to=assignee, debtor_name=kwargs.pop("debtor", "Debtor Ltd"))
    return TaskFactory(case=case, **kwargs)


def shown(response: Any) -> list[str]:
    """References of the cases whose tasks the page lists, in order."""
    return [task.case.reference for task in response.context["page"].tasks]


def test_an_agent_sees_own_and_unassigned_tasks_not_a_colleagues(client, agent, make_user):
    colleague = make_user(username="colleague", role=AGENT)
    mine, nobodys, theirs = task_on(agent), task_on(None), task_on(colleague)
    client.force_login(agent)

    response = client.get(INBOX)
    assert response.status_code == 200
    assert set(shown(response)) == {mine.case.reference, nobodys.case.reference}
    # An agent cannot widen the view through the query string.
    assert theirs.case.reference not in shown(client.get(INBOX, {"whose": "all"}))
    assert theirs.case.reference not in shown(client.get(INBOX, {"whose": str(colleague.pk)}))


def test_a_supervisor_sees_everyones_and_filters_by_agent_and_kind(client, supervisor, agent, make_user):
    colleague = make_user(username="colleague", role=AGENT)
    a = task_on(agent, kind="reply_creditor")
    b = task_on(colleague, kind="progress_update")
    c = task_on(None, kind="progress_update")
    client.force_login(supervisor)

    assert set(shown(client.get(INBOX, {"whose": "all"}))) == {t.case.reference for t in (a, b, c)}
    assert shown(client.get(INBOX, {"whose": str(colleague.pk)})) == [b.case.reference]
    assert shown(client.get(INBOX, {"whose": "none"})) == [c.case.reference]
    assert set(shown(client.get(INBOX, {"whose": "all", "kind": "progress_update"}))) == {
        b.case.reference,
        c.case.reference,
    }


def test_a_viewer_has_no_inbox_and_no_nav_item(client, viewer):
    client.force_login(viewer)
    assert client.get(INBOX).status_code == 403
    assert "My work" not in client.get(reverse("cases:list")).content.decode()


def test_tasks_come_by_deadline_overdue_in_red_with_the_link_that_does_them(client, agent):
    later = task_on(agent, due_at=timezone.now() + timedelta(days=3), action="Post a note")
    overdue = task_on(agent, due_at=timezone.now() - timedelta(hours=5), action="Reply", debtor="Late GmbH")
    client.force_login(agent)

    response = client.get(INBOX)
    html = response.content.decode()
    assert shown(response) == [overdue.case.reference, later.case.reference]
    assert "task-overdue" in html
    assert "overdue by 5 h" in html
    assert "due in 2 d 23 h" in html
    assert f'href="{overdue.url}"' in html
    assert "Late GmbH" in html


def test_hidden_tasks_wait_for_their_time(client, agent):
    task_on(agent, visible=False, visible_from=timezone.now() + timedelta(days=2))
    client.force_login(agent)
    assert shown(client.get(INBOX)) == []


def test_pages_follow_the_deadline_order_without_gaps_or_repeats(client, agent):
    now = timezone.now()
    # Ties on the deadline too: the id decides between them.
    made = [
        task_on(agent if n % 2 else None, due_at=now + timedelta(hours=n // 3)) for n in range(PAGE_SIZE + 7)
    ]
    client.force_login(agent)

    first = client.get(INBOX)
    cursor = first.context["page"].next_cursor
    second = client.get(INBOX, {"after": cursor})

    expected = [t.case.reference for t in sorted(made, key=lambda t: (t.due_at, t.pk))]
    assert shown(first) + shown(second) == expected
    assert second.context["page"].next_cursor == ""


def test_the_nav_counts_due_today_and_overdue_tasks_on_every_page(client, agent, make_user):
    colleague = make_user(username="colleague", role=AGENT)
    task_on(agent, due_at=timezone.now() - timedelta(days=2))
    task_on(None, due_at=timezone.now() + timedelta(minutes=1))
    task_on(agent, due_at=timezone.now() + timedelta(days=3))  # not yet
    task_on(colleague, due_at=timezone.now() - timedelta(days=1))  # not mine
    client.force_login(agent)

    html = client.get(reverse("cases:list")).content.decode()
    assert 'class="badge badge-due nav-work"' in html
    assert ">2</span>" in html.split("My work", 1)[1][:400]


def test_the_nav_count_asks_again_after_a_case_changed_and_follows_a_task_done(client, agent):
    # A task done on the case page (a reply, a note) leaves the count without a reload: the count
    # listens for the case page's "case-changed" event and fetches itself again.
    done = task_on(agent, due_at=timezone.now() - timedelta(days=2))
    task_on(agent, due_at=timezone.now() - timedelta(days=1))
    client.force_login(agent)

    page = client.get(reverse("cases:list")).content.decode()
    assert f'hx-get="{reverse("worklist:nav")}" hx-trigger="case-changed from:body' in page
    assert ">2</span>" in client.get(reverse("worklist:nav")).content.decode()
    done.delete()
    assert ">1</span>" in client.get(reverse("worklist:nav")).content.decode()


def test_the_nav_count_stops_at_its_cap(client, agent):
    case = CaseFactory(assigned_to=agent)
    Task.objects.bulk_create(
        Task(
            kind="failed_action",
            case=case,
            key=f"failed_action:{n}",
            due_at=timezone.now() - timedelta(hours=1),
            reason="x",
            url="/",
            action="Fix",
            assignee=agent,
        )
        for n in range(NAV_CAP + 5)
    )
    client.force_login(agent)
    html = client.get(INBOX).content.decode()
    assert f">{NAV_CAP - 1}+</span>" in html


def test_a_supervisor_reassigns_the_ticked_tasks_cases_and_the_tasks_follow(
    client, supervisor, agent, django_capture_on_commit_callbacks
):
    task = task_on(None)
    Case.objects.filter(pk=task.case_id).update(children_synced_at=timezone.now())
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("worklist:reassign"),
            {"case": [str(task.case_id)], "assignee": str(agent.pk), "next": "whose=all"},
        )

    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}?whose=all"
    assert Case.objects.get(pk=task.case_id).assigned_to == agent
    # The refresh after the commit derived the case's tasks again, now the agent's (an Active case
    # with no note: its monthly update).
    assert Task.objects.get(case_id=task.case_id, kind="progress_update").assignee == agent


def test_an_agent_may_not_reassign(client, agent):
    task = task_on(None)
    client.force_login(agent)
    response = client.post(
        reverse("worklist:reassign"), {"case": [str(task.case_id)], "assignee": str(agent.pk)}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("whose", ["", "all", "none"])
def test_the_inbox_costs_the_same_queries_at_any_number_of_tasks(
    client, supervisor, agent, django_assert_max_num_queries, whose
):
    client.force_login(supervisor)
    for _ in range(3):
        task_on(supervisor)
        task_on(None)
    client.get(INBOX, {"whose": whose})  # warm the permission and user caches as a session would
    with django_assert_max_num_queries(9) as few:
        client.get(INBOX, {"whose": whose})
    for _ in range(PAGE_SIZE + 10):
        task_on(supervisor)
        task_on(None)
        task_on(agent)
    with django_assert_max_num_queries(len(few)):
        response = client.get(INBOX, {"whose": whose})
    assert len(response.context["page"].tasks) == PAGE_SIZE


def test_a_note_posted_from_the_case_page_takes_its_task_out_of_the_inbox_at_once(
    client, synced, team_agent, active_case, django_capture_on_commit_callbacks, eager_tasks
):
    from cases.sync import case_children_refresh

    with django_capture_on_commit_callbacks(execute=True):
        case_children_refresh(case=active_case, client=synced)
    Task.objects.filter(case=active_case, kind="progress_update").update(
        due_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(team_agent)
    assert active_case.reference in shown(client.get(INBOX, {"kind": "progress_update"}))

    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        response = client.post(
            reverse("cases:note", args=[active_case.pk]),
            {"description": "Spoke to the debtor's accountant.", "token": "inbox-note-1"},
        )
    assert response.status_code in (200, 302)
    assert OutboxAction.objects.get(idempotency_key="inbox-note-1").state == "pending"

    # Before Debitura has answered (the relay has not run): the note on its way counts.
    assert active_case.reference not in shown(client.get(INBOX, {"kind": "progress_update"}))


@pytest.mark.parametrize("cursor", ["garbage", "2026-13-45T00:00:00|1", "2026-01-01T00:00:00|x", "|"])
def test_a_hand_edited_cursor_shows_the_first_page(client, agent, cursor):
    task = task_on(agent)
    client.force_login(agent)
    assert shown(client.get(INBOX, {"after": cursor})) == [task.case.reference]
