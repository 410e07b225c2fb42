"""The case list and the case page, read from the local copy."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, OutboxAction

pytestmark = pytest.mark.django_db


def test_the_list_shows_synced_cases_with_money_in_their_currency(agent_client, synced):
    case = Case.objects.filter(is_test_case=False).order_by("-remote_updated_at").first()
    html = agent_client.get(reverse("cases:list")).content.decode()
    assert case.reference in html
    assert case.currency in html


def test_search_finds_a_case_by_debtor_email_and_the_htmx_request_gets_only_the_table(agent_client, synced):
    case = Case.objects.exclude(debtor_email="").filter(is_test_case=False).first()
    response = agent_client.get(
        reverse("cases:list"), {"q": case.debtor_email.upper()}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert case.reference in html
    assert "<html" not in html  # the partial only
    assert "case-table" in html


def test_a_user_without_a_role_cannot_see_cases(client, make_user, synced):
    client.force_login(make_user(username="norole"))
    assert client.get(reverse("cases:list")).status_code == 403


def test_opening_a_case_with_stale_children_shows_it_at_once_and_polls_for_the_refresh(
    agent_client, synced, django_capture_on_commit_callbacks
):
    case = Case.objects.first()
    with django_capture_on_commit_callbacks() as callbacks:
        response = agent_client.get(reverse("cases:detail", args=[case.id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Fetching the latest timeline" in html
    assert f'hx-get="{reverse("cases:children", args=[case.id])}"' in html
    assert len(callbacks) == 1  # the refresh task, queued after the response's transaction
    assert Case.objects.get(id=case.id).first_opened_at is not None


def test_the_children_poll_stops_once_the_refresh_landed(agent_client, synced):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(children_stale=False, children_synced_at=timezone.now())
    response = agent_client.get(reverse("cases:children", args=[case.id]))
    assert response.status_code == 286  # htmx: stop polling
    assert b"Fetching the latest" not in response.content


def test_the_case_page_shows_pending_and_failed_actions_with_debituras_words(agent_client, agent, synced):
    case = Case.objects.first()
    OutboxAction.objects.create(kind="note", case=case, actor=agent, idempotency_key="k1", payload={})
    OutboxAction.objects.create(
        kind="close",
        case=case,
        actor=agent,
        idempotency_key="k2",
        state="failed",
        last_error="Close code Paid requires payments covering the outstanding amount.",
    )
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert "Pending" in html
    assert "Close code Paid requires payments covering the outstanding amount." in html


def test_api_data_is_escaped(agent_client, synced):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(
        creditor_comments="<script>alert('x')</script>", debtor_name="<img src=x onerror=alert(1)>"
    )
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_an_unknown_case_is_404(agent_client, db):
    assert agent_client.get("/cases/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        ("Yes, the claim is disputed", True),
        ("No, the claim is not disputed", False),
        ("Don't Know", False),
        ("", False),
    ],
)
def test_only_a_disputed_claim_is_flagged_as_disputed(agent_client, synced, status, flagged):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(dispute_status=status)
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert ("Disputed:" in html) is flagged
