"""Who may submit and see submitted cases, the list's search and pages, and what the pages cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import roles_with
from managed.models import ManagedCase
from outbox.models import OutboxAction
from tests.fixtures.factories import ManagedCaseFactory
from tests.managed.conftest import submit_form

pytestmark = pytest.mark.django_db


def test_submitting_is_for_agents_and_up():
    assert roles_with("accounts.submit_cases") == ("Administrator", "Supervisor", "Agent")


def test_a_viewer_sees_submitted_cases_but_cannot_submit_one(client, viewer):
    row = ManagedCaseFactory()
    client.force_login(viewer)

    listing = client.get(reverse("managed:list"))
    assert listing.status_code == 200
    assert row.reference in listing.content.decode()
    assert reverse("managed:submit") not in listing.content.decode()
    assert client.get(reverse("managed:detail", args=[row.pk])).status_code == 200
    assert client.get(reverse("managed:submit")).status_code == 403
    assert client.post(reverse("managed:submit"), submit_form()).status_code == 403
    assert ManagedCase.objects.count() == 1
    assert not OutboxAction.objects.exists()


def test_a_user_without_a_role_sees_nothing(client, make_user):
    row = ManagedCaseFactory()
    client.force_login(make_user(username="nobody"))

    assert client.get(reverse("managed:list")).status_code == 403
    assert client.get(reverse("managed:detail", args=[row.pk])).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("managed:submit"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("user", ["agent", "supervisor"])
def test_agents_and_supervisors_get_the_form(client, user, request):
    client.force_login(request.getfixturevalue(user))
    page = client.get(reverse("managed:submit"))
    assert page.status_code == 200
    assert 'name="token"' in page.content.decode()


def test_search_finds_a_case_by_reference_and_by_debtor(agent_client):
    wanted = ManagedCaseFactory(reference="QX7TEST1", debtor_name="Nordlicht Handels AG")
    ManagedCaseFactory.create_batch(3)

    by_reference = agent_client.get(reverse("managed:list"), {"q": "qx7test1"}).context["rows"]
    by_debtor = agent_client.get(reverse("managed:list"), {"q": "Nordlicht"}).context["rows"]

    assert [r.pk for r in by_reference] == [r.pk for r in by_debtor] == [wanted.pk]


def test_pages_follow_one_another_newest_first_without_gaps_or_repeats(agent_client):
    ManagedCaseFactory.create_batch(60)
    first = agent_client.get(reverse("managed:list"))
    second = agent_client.get(reverse("managed:list"), {"after": first.context["next_cursor"]})

    seen = [r.pk for r in first.context["rows"]] + [r.pk for r in second.context["rows"]]
    assert len(first.context["rows"]) == 50
    assert second.context["next_cursor"] == ""
    assert seen == list(ManagedCase.objects.values_list("pk", flat=True))


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_5_or_50_cases_with_submissions(agent_client, emulator):
    for _ in range(3):
        agent_client.post(reverse("managed:submit"), submit_form())
    ManagedCaseFactory.create_batch(2)
    few = _queries(agent_client, reverse("managed:list"))
    ManagedCaseFactory.create_batch(45)

    assert _queries(agent_client, reverse("managed:list")) == few
    # Session, user, two for permissions, the page of rows with their submissions, the nav's unread
    # count and its "My work" count.
    assert few == 7


def test_a_cases_page_costs_a_fixed_number_of_queries(agent_client):
    row = ManagedCaseFactory()
    # As the list, with the case and its submission in one query instead of the page of rows.
    assert _queries(agent_client, reverse("managed:detail", args=[row.pk])) == 7


def test_administrators_see_submitted_cases_and_sync_runs_in_django_admin(client, administrator):
    row = ManagedCaseFactory()
    client.force_login(administrator)

    assert row.reference in client.get(reverse("admin:managed_managedcase_changelist")).content.decode()
    assert client.get(reverse("admin:managed_managedcase_change", args=[row.pk])).status_code == 200
    assert client.get(reverse("admin:managed_managedsyncrun_changelist")).status_code == 200
