"""A case's History tab: actions, local changes and (for supervisors) views in one timeline; CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.events import CaseChange
from history.recording import case_changes_record, case_view_record
from history.timeline import PAGE_SIZE, case_history_entries
from outbox.models import OutboxAction
from tests.fixtures.factories import CaseFactory, OutboxActionFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=1)


def reassign(case, *, to, was=None, by, at):
    before = {"assigned_to_id": was.pk if was else None, "partner_reference": case.partner_reference}
    after = {**before, "assigned_to_id": to.pk if to else None}
    case_changes_record(changes=[CaseChange(case.pk, before, after)], actor=by, reason="Reassigned", at=at)


@pytest.fixture
def worked_case(agent, supervisor):
    """A case with an action, a reassignment and two openings, one minute apart in that order."""
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg")
    case = CaseFactory(reference="Q8OAXF3W")
    OutboxActionFactory(
        case=case,
        actor=agent,
        kind=OutboxAction.Kind.NOTE,
        state=OutboxAction.State.FAILED,
        last_error="The case is closed.",
        created_at=T0,
    )
    reassign(case, to=anna, by=supervisor, at=T0 + timedelta(minutes=1))
    case_view_record(case=case, user=agent, at=T0 + timedelta(minutes=2))
    case_view_record(case=case, user=supervisor, at=T0 + timedelta(minutes=3))
    return case


def rows(response):
    return [(e.source, e.who, e.what) for e in response.context["page"].entries]


def test_supervisors_see_actions_changes_and_views_newest_first(client, supervisor, agent, worked_case):
    client.force_login(supervisor)

    response = client.get(reverse("history:case", args=[worked_case.pk]))

    assert response.status_code == 200
    assert rows(response) == [
        ("view", supervisor.get_full_name(), "Opened the case"),
        ("view", agent.get_full_name(), "Opened the case"),
        ("change", supervisor.get_full_name(), "Assignee: nobody → Anna Berg"),
        ("action", agent.get_full_name(), "Note"),
    ]
    page = response.content.decode()
    assert "Assignee: nobody → Anna Berg" in page
    assert "Debitura: The case is closed." in page
    assert reverse("history:case_csv", args=[worked_case.pk]) in page


def test_agents_see_actions_and_changes_but_not_who_opened_the_case(client, agent, worked_case):
    client.force_login(agent)

    response = client.get(reverse("history:case", args=[worked_case.pk]))

    assert [source for source, _, _ in rows(response)] == ["change", "action"]
    page = response.content.decode()
    assert "Opened the case" not in page
    assert reverse("history:case_csv", args=[worked_case.pk]) not in page


def test_the_case_page_links_its_history_tab(client, agent, worked_case):
    client.force_login(agent)

    page = client.get(reverse("cases:detail", args=[worked_case.pk])).content.decode()

    assert f'href="{reverse("history:case", args=[worked_case.pk])}"' in page


def test_a_long_history_is_paged_and_the_queries_do_not_grow_with_it(
    client, supervisor, agent, django_assert_max_num_queries
):
    case = CaseFactory()
    users = [UserFactory() for _ in range(3)]
    for n in range(PAGE_SIZE):
        at = T0 + timedelta(minutes=n)
        OutboxActionFactory(case=case, actor=users[n % 3], created_at=at)
        reassign(case, to=users[n % 3], was=users[(n - 1) % 3] if n else None, by=supervisor, at=at)
        case_view_record(case=case, user=users[n % 3], at=at)
    client.force_login(supervisor)
    url = reverse("history:case", args=[case.pk])
    client.get(url)  # sessions, permissions, content types: warm
    # 9 for the page and one for the navigation's "My work" count (worklist.inbox.nav_count).

    with django_assert_max_num_queries(10):
        first = client.get(url)
    with django_assert_max_num_queries(10):
        second = client.get(url, {"offset": PAGE_SIZE})
    for _ in range(2 * PAGE_SIZE):
        OutboxActionFactory(case=case, actor=agent, created_at=T0 - timedelta(days=1))
    with django_assert_max_num_queries(10):
        client.get(url)

    firsts, seconds = first.context["page"].entries, second.context["page"].entries
    assert len(firsts) == len(seconds) == PAGE_SIZE
    assert first.context["page"].next_offset == PAGE_SIZE
    assert firsts[-1].at >= seconds[0].at
    everything = [*firsts, *seconds]
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)


def test_the_csv_export_is_for_supervisors_and_neutralises_formulas(client, agent, supervisor, worked_case):
    formula = UserFactory(username="formula", first_name='=HYPERLINK("http://evil")', last_name="x")
    OutboxActionFactory(case=worked_case, actor=formula, created_at=T0 + timedelta(minutes=5))
    url = reverse("history:case_csv", args=[worked_case.pk])
    client.force_login(agent)
    assert client.get(url).status_code == 403

    client.force_login(supervisor)
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="history-Q8OAXF3W-{timezone.localdate().isoformat()}.csv"'
    )
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == ["When", "Kind", "Who", "What", "State", "Answered", "Details"]
    assert table[1][2] == '\'=HYPERLINK("http://evil") x'
    assert [row[1] for row in table[1:]] == [
        "Action sent to Debitura",
        "Opened",
        "Opened",
        "Local change",
        "Action sent to Debitura",
    ]
    assert table[-1][6] == "The case is closed."


def test_the_csv_file_name_keeps_only_safe_characters(client, supervisor):
    case = CaseFactory(reference='R"1;\r\nX')
    client.force_login(supervisor)

    response = client.get(reverse("history:case_csv", args=[case.pk]))

    assert response["Content-Disposition"].startswith('attachment; filename="history-R1X-')


def test_viewers_without_case_access_get_nothing(client, make_user, worked_case):
    client.force_login(make_user(username="norole"))

    assert client.get(reverse("history:case", args=[worked_case.pk])).status_code == 403


def test_an_action_says_what_it_sent_and_a_payment_its_amount_in_the_case_currency(agent):
    case = CaseFactory(currency="EUR")
    OutboxActionFactory(case=case, actor=agent, payload={"description": "Called the debtor."}, created_at=T0)
    OutboxActionFactory(
        case=case,
        actor=agent,
        kind=OutboxAction.Kind.PAYMENT_CREATE,
        payload={"amount": "1234.5"},
        created_at=T0 + timedelta(minutes=1),
    )

    whats = [entry.what for entry in case_history_entries(case=case, with_views=False)]

    assert whats == ["Record payment: 1,234.50 EUR", "Note: Called the debtor."]
