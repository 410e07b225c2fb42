"""Saved views and reassigning from the list: who may do what, and what it changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import SavedView
from cases.models import Case
from tests.fixtures.case_list import make_cases

pytestmark = pytest.mark.django_db
LIST = "/cases/"


def test_a_user_saves_applies_and_deletes_a_view(agent_client, agent):
    response = agent_client.post(
        reverse("cases:saved_views"), {"name": "Big DKK", "query": "currency=DKK&amount_min=1000&after=xyz"}
    )
    assert response.status_code == 302
    view = SavedView.objects.get(user=agent, name="Big DKK")
    assert view.query == "currency=DKK&amount_min=1000"  # the page cursor is not part of a view
    html = agent_client.get(reverse("cases:saved_views")).content.decode()
    assert f'href="/cases/?{view.query.replace("&", "&amp;")}"' in html
    agent_client.post(reverse("cases:saved_view_delete", args=[view.id]))
    assert not SavedView.objects.filter(id=view.id).exists()


def test_saving_a_view_without_a_name_says_so(agent_client):
    response = agent_client.post(reverse("cases:saved_views"), {"name": " ", "query": "tab=new"})
    assert response.status_code == 400
    assert "Give the view a name." in response.content.decode()


def test_nobody_deletes_someone_elses_saved_view(client, agent, supervisor):
    view = SavedView.objects.create(user=agent, name="Mine", query="tab=mine")
    client.force_login(supervisor)
    assert client.post(reverse("cases:saved_view_delete", args=[view.id])).status_code == 404
    assert SavedView.objects.filter(id=view.id).exists()


def test_supervisors_see_checkboxes_and_the_local_only_warning(client, supervisor):
    make_cases(2)
    client.force_login(supervisor)
    html = client.get(LIST).content.decode()
    assert 'type="checkbox" name="case"' in html
    assert "Debitura has no call to change" in html


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_get_no_reassign_controls_and_a_403(client, request, role):
    cases = make_cases(1)
    user = request.getfixturevalue(role)
    client.force_login(user)
    html = client.get(LIST).content.decode()
    # Agents tick cases for the actions they may take on them (a bulk progress note), not to reassign.
    assert ('name="case"' in html) is (role == "agent")
    assert 'name="assignee"' not in html
    assert "Debitura has no call to change" not in html
    response = client.post(
        reverse("cases:reassign"), {"case": [str(cases[0].id)], "assignee": str(user.pk), "confirm": "yes"}
    )
    assert response.status_code == 403
    assert Case.objects.get(id=cases[0].id).assigned_to is None


def test_bulk_reassign_asks_for_confirmation_then_changes_the_cases(client, supervisor, agent):
    cases = make_cases(3)
    client.force_login(supervisor)
    ids = [str(c.id) for c in cases[:2]]
    confirm = client.post(
        reverse("cases:reassign"), {"case": ids, "assignee": str(agent.pk), "next": "tab=all"}
    )
    assert confirm.status_code == 200
    assert "Reassign 2 cases to" in confirm.content.decode()
    assert Case.objects.filter(assigned_to=agent).count() == 0  # nothing changed before the confirmation
    done = client.post(
        reverse("cases:reassign"),
        {"case": ids, "assignee": str(agent.pk), "next": "tab=all", "confirm": "yes"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/cases/?tab=all"
    assert set(Case.objects.filter(assigned_to=agent).values_list("id", flat=True)) == {
        c.id for c in cases[:2]
    }


def test_reassign_refuses_an_unknown_assignee(client, supervisor):
    cases = make_cases(1)
    client.force_login(supervisor)
    client.post(
        reverse("cases:reassign"), {"case": [str(cases[0].id)], "assignee": "999999", "confirm": "yes"}
    )
    assert Case.objects.get(id=cases[0].id).assigned_to is None


def test_a_local_reassignment_survives_a_sync_that_leaves_debituras_assignee_alone(
    client, supervisor, agent, synced
):
    from cases.sync import cases_sync_incremental

    case = Case.objects.filter(gone_at__isnull=True).first()
    client.force_login(supervisor)
    client.post(
        reverse("cases:reassign"), {"case": [str(case.id)], "assignee": str(agent.pk), "confirm": "yes"}
    )
    Case.objects.filter(id=case.id).update(raw_hash="stale")  # make the next sync rewrite the row
    cases_sync_incremental(client=synced)
    assert Case.objects.get(id=case.id).assigned_to == agent
