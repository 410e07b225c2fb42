"""The history of local changes: reassignments, agency references, agency settings; never the sync."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import AGENT
from cases.actions import case_accept
from cases.models import Case, TeamMember
from cases.reassign import cases_reassign
from cases.references import case_reference_give, case_reference_take_back
from cases.sync import cases_sync_incremental, team_sync
from cases.team import team_member_link
from history.recording import BASELINE
from history.timeline import case_history_entries
from history.tracked import history_model
from partnerportal.models import AgencySettings
from tests.fixtures.cases import change_cases
from tests.fixtures.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def case_history(case):
    """The case's change rows (baselines left out), oldest first."""
    rows = history_model("cases.Case").objects.filter(id=case.pk).order_by("history_date", "history_id")
    return [row for row in rows if row.history_change_reason != BASELINE]


def test_a_reassign_records_who_when_and_the_old_and_new_assignee(supervisor):
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg")
    bo = UserFactory(username="bo", first_name="Bo", last_name="Lind")
    case = CaseFactory(assigned_to=anna)

    cases_reassign(case_ids=[str(case.pk)], assignee=bo, actor=supervisor)

    (row,) = case_history(case)
    assert row.assigned_to_id == bo.pk
    assert row.history_user == supervisor
    assert row.history_change_reason == "Reassigned"
    assert row.history_date.tzinfo is not None
    (entry,) = [e for e in case_history_entries(case=case, with_views=False) if e.source == "change"]
    assert entry.what == "Assignee: Anna Berg → Bo Lind"
    assert entry.who == supervisor.get_full_name()


def test_a_bulk_reassign_records_one_row_per_changed_case_in_a_fixed_number_of_queries(
    supervisor, django_assert_max_num_queries
):
    bo = UserFactory(username="bo")
    cases = CaseFactory.create_batch(30)
    already = CaseFactory(assigned_to=bo)

    # Lock and read, update, the newest rows, baselines, changes (SAVEPOINTs aside).
    with django_assert_max_num_queries(8):
        changed = cases_reassign(
            case_ids=[str(c.pk) for c in [*cases, already]], assignee=bo, actor=supervisor
        )

    assert changed == 31
    for case in cases:
        assert [row.assigned_to_id for row in case_history(case)] == [bo.pk]
    assert case_history(already) == []  # it was Bo's already: nothing changed


def test_reassigning_to_nobody_reads_as_nobody(supervisor):
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg")
    case = CaseFactory(assigned_to=anna)

    cases_reassign(case_ids=[str(case.pk)], assignee=None, actor=supervisor)

    (entry,) = [e for e in case_history_entries(case=case, with_views=False) if e.source == "change"]
    assert entry.what == "Assignee: Anna Berg → nobody"


def test_a_change_made_by_the_sync_in_between_is_the_old_value_of_the_next_local_change(supervisor):
    anna = UserFactory(username="anna", first_name="Anna", last_name="A")
    carl = UserFactory(username="carl", first_name="Carl", last_name="C")
    bo = UserFactory(username="bo", first_name="Bo", last_name="B")
    case = CaseFactory()
    cases_reassign(case_ids=[str(case.pk)], assignee=anna, actor=supervisor)
    Case.objects.filter(pk=case.pk).update(assigned_to=carl)  # as the sync writes it: no history

    cases_reassign(case_ids=[str(case.pk)], assignee=bo, actor=supervisor)

    changes = [e.what for e in case_history_entries(case=case, with_views=False) if e.source == "change"]
    assert changes == ["Assignee: Carl C → Bo B", "Assignee: nobody → Anna A"]


def test_the_agency_reference_given_with_an_accept_and_taken_back_is_recorded(agent):
    case = CaseFactory(partner_reference="")

    case_reference_give(case_id=case.pk, reference="AG-7", actor=agent, reason="Given with the accept")
    case_reference_take_back(case_id=case.pk, reference="AG-7", reason="Debitura refused the accept")

    given, taken = case_history(case)
    assert (given.partner_reference, given.history_user, given.history_change_reason) == (
        "AG-7",
        agent,
        "Given with the accept",
    )
    assert (taken.partner_reference, taken.history_user) == ("", None)
    whats = [e.what for e in case_history_entries(case=case, with_views=False) if e.source == "change"]
    assert whats == ["Agency reference: AG-7 → none", "Agency reference: none → AG-7"]


def test_giving_the_reference_a_case_already_has_records_nothing(agent):
    case = CaseFactory(partner_reference="AG-8")

    assert case_reference_give(case_id=case.pk, reference="AG-8", actor=agent)

    assert case_history(case) == []


def test_an_accept_records_the_agent_who_gave_the_reference(pending_case, team_agent):
    case_accept(
        case=pending_case,
        actor=team_agent,
        welcome_message="Welcome, we take it from here.",
        partner_reference="AG-1001",
    )

    (row,) = case_history(pending_case)
    assert (row.partner_reference, row.history_user) == ("AG-1001", team_agent)


def test_the_sync_records_no_history_even_where_it_writes_the_assignee(
    emulator, sync_client, agent, django_assert_max_num_queries
):
    team_sync(client=sync_client)
    run = cases_sync_incremental(client=sync_client)
    assert not run.error
    assert run.created
    member = TeamMember.objects.exclude(email="").first()
    team_member_link(member=member, user=agent)  # the sync's own assignee, from Debitura's
    change_cases(emulator, 25)

    run = cases_sync_incremental(client=sync_client)

    assert not run.error
    assert run.updated == 25
    assert Case.objects.filter(assigned_to=agent).exists()
    assert not history_model("cases.Case").objects.exists()


def test_an_agency_settings_change_in_admin_is_recorded_with_the_administrator(client, administrator):
    settings = AgencySettings.load()
    client.force_login(administrator)
    url = reverse("admin:partnerportal_agencysettings_change", args=[settings.pk])

    response = client.post(
        url,
        {
            "welcome_message_template": "Hello {{ creditor_name }}",
            "partner_reference_pattern": "AG-{seq:04d}",
        },
    )

    assert response.status_code == 302
    newest = AgencySettings.history.order_by("-history_date").first()
    assert newest.history_user == administrator
    assert newest.partner_reference_pattern == "AG-{seq:04d}"
    delta = newest.diff_against(newest.prev_record)
    assert {change.field for change in delta.changes} == {
        "welcome_message_template",
        "partner_reference_pattern",
    }


def test_history_rows_are_read_only_in_admin(client, administrator, supervisor):
    case = CaseFactory()
    cases_reassign(case_ids=[str(case.pk)], assignee=supervisor, actor=supervisor)
    client.force_login(administrator)

    listing = client.get(reverse("admin:history_historicalcase_changelist"))
    add = client.get(reverse("admin:history_historicalcase_add"))

    assert listing.status_code == 200
    assert add.status_code == 403


def test_reassigning_from_the_list_records_the_supervisor_and_a_baseline_by_nobody(client, supervisor):
    anna = UserFactory(username="anna", role=AGENT)
    case = CaseFactory()
    client.force_login(supervisor)

    response = client.post(
        reverse("cases:reassign"), {"case": [str(case.pk)], "assignee": str(anna.pk), "confirm": "yes"}
    )

    assert response.status_code == 302
    rows = history_model("cases.Case").objects.filter(id=case.pk).order_by("history_date")
    assert [(row.history_user, row.assigned_to_id) for row in rows] == [(None, None), (supervisor, anna.pk)]
