"""The action forms' POST views: permissions, confirmation, errors next to fields, one row per token."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions import case_fees_update
from cases.models import Case, OutboxAction

pytestmark = pytest.mark.django_db

ROUTES = ["accept", "decline", "close", "note", "chat", "fees", "fees_consent"]


def post(client, name, case, data, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse(f"cases:{name}", args=[case.id]), data, headers=headers)


@pytest.mark.parametrize("name", ROUTES)
def test_a_viewer_gets_403_and_nothing_is_written(client, viewer, active_case, name):
    client.force_login(viewer)
    assert post(client, name, active_case, {"token": "t1", "confirmed": "1"}).status_code == 403
    assert not OutboxAction.objects.exists()


@pytest.mark.parametrize("name", ROUTES)
def test_action_urls_take_only_post(agent_client, active_case, name):
    assert agent_client.get(reverse(f"cases:{name}", args=[active_case.id])).status_code == 405


def test_action_posts_need_a_csrf_token(team_agent, active_case):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(team_agent)
    assert post(client, "note", active_case, {"token": "t1", "description": "x"}).status_code == 403


def test_a_note_without_javascript_is_queued_and_redirects_to_the_case(client, team_agent, active_case):
    client.force_login(team_agent)
    response = post(client, "note", active_case, {"token": "tok-note-1", "description": "Called the debtor."})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cases:detail", args=[active_case.id]))
    action = OutboxAction.objects.get()
    assert (action.kind, action.payload["description"]) == ("note", "Called the debtor.")
    assert "Note queued" in client.get(response["Location"]).content.decode()


def test_a_note_dated_in_the_future_is_refused_next_to_the_field_and_keeps_the_text(
    client, team_agent, active_case
):
    client.force_login(team_agent)
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = post(
        client,
        "note",
        active_case,
        {"token": "tok-note-2", "description": "Promise to pay", "event_date": tomorrow},
    )
    html = response.content.decode()
    assert "Cannot be in the future." in html
    assert "Promise to pay</textarea>" in html
    assert not OutboxAction.objects.exists()


def test_a_back_dated_note_keeps_its_date(client, team_agent, active_case):
    client.force_login(team_agent)
    last_week = (timezone.localtime() - timedelta(days=7)).replace(second=0, microsecond=0)
    post(
        client,
        "note",
        active_case,
        {
            "token": "tok-note-3",
            "description": "Met the debtor",
            "event_date": last_week.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert OutboxAction.objects.get().payload["event_date"].startswith(last_week.date().isoformat())


def test_a_chat_message_asks_for_confirmation_first_then_sends_once(client, team_agent, active_case):
    client.force_login(team_agent)
    data = {"token": "tok-chat-1", "message": "We reached the debtor <today>."}
    first = post(client, "chat", active_case, data, htmx=True)
    html = first.content.decode()
    assert "Send this message?" in html
    assert "We reached the debtor &lt;today&gt;." in html
    assert not OutboxAction.objects.exists()

    confirmed = post(client, "chat", active_case, {**data, "confirmed": "1"}, htmx=True)
    again = post(client, "chat", active_case, {**data, "confirmed": "1"}, htmx=True)  # a double click
    assert confirmed.status_code == again.status_code == 200
    assert OutboxAction.objects.filter(kind="chat").count() == 1
    body = confirmed.content.decode()
    assert 'id="case-children" hx-swap-oob="true"' in body  # the action log, out of band, polling
    assert "action-state-pending" in body


def test_change_on_the_confirmation_step_returns_to_the_form_with_the_input(client, team_agent, active_case):
    client.force_login(team_agent)
    data = {"token": "tok-chat-2", "message": "Draft", "confirmed": "1", "edit": "1"}
    html = post(client, "chat", active_case, data).content.decode()
    assert "Draft</textarea>" in html
    assert not OutboxAction.objects.exists()


def test_close_as_other_needs_a_comment(client, team_agent, active_case):
    client.force_login(team_agent)
    html = post(
        client, "close", active_case, {"token": "tok-close-1", "close_code": "Other"}
    ).content.decode()
    assert "Say why when the close code is Other." in html
    assert not OutboxAction.objects.exists()


def test_close_as_paid_without_covering_payments_shows_the_rule_next_to_the_code(
    client, team_agent, active_case
):
    Case.objects.filter(pk=active_case.pk).update(remainder=Decimal("100"))
    client.force_login(team_agent)
    data = {"token": "tok-close-2", "close_code": "Paid", "confirmed": "1"}
    html = post(client, "close", active_case, data).content.decode()
    assert "Paid needs payments covering the outstanding" in html
    assert not OutboxAction.objects.exists()


def test_close_with_a_code_after_confirmation_is_queued_and_the_case_shows_close_pending(
    client, team_agent, active_case
):
    client.force_login(team_agent)
    data = {"token": "tok-close-3", "close_code": "UneconomicalToPursue", "comment": "Too small"}
    assert "Close the case at Debitura?" in post(client, "close", active_case, data).content.decode()
    response = post(client, "close", active_case, {**data, "confirmed": "1"}, htmx=True)
    assert response["HX-Retarget"] == "#case-actions"
    assert OutboxAction.objects.get().payload == {
        "close_code": "UneconomicalToPursue",
        "comment": "Too small",
    }
    assert "Close pending" in response.content.decode()


def test_decline_is_relayed_as_a_close_with_the_category_and_text(client, team_agent, pending_case):
    client.force_login(team_agent)
    data = {
        "token": "tok-decline",
        "reason": "outside_jurisdiction",
        "text": "Debtor in Peru",
        "confirmed": "1",
    }
    post(client, "decline", pending_case, data)
    action = OutboxAction.objects.get()
    assert action.kind == "decline"
    assert action.payload["comment"] == "Declined: Outside our jurisdiction: Debtor in Peru"


def accept_data(**overrides):
    data = {
        "token": "tok-accept",
        "welcome_message": "Welcome, we take it from here.",
        "partner_reference": "AG-77",
        "assigned_user_email": "",
        "interest_fees": "12.50",
        "reminder_fees": "",
        "collection_fees": "0",
        "confirmed": "1",
    }
    return {**data, **overrides}


def test_accept_queues_the_start_with_reference_assignee_and_fees(client, team_agent, pending_case):
    client.force_login(team_agent)
    email = team_agent.team_member.email
    post(client, "accept", pending_case, accept_data(assigned_user_email=email))
    action = OutboxAction.objects.get()
    assert action.kind == "accept"
    assert action.payload["partner_reference"] == "AG-77"
    assert action.payload["assigned_user_email"] == email
    assert action.payload["interest_fees"] == "12.50"
    assert action.payload["reminder_fees"] is None


def test_accept_refuses_an_agency_reference_another_case_has(client, team_agent, pending_case, active_case):
    Case.objects.filter(pk=active_case.pk).update(partner_reference="AG-77")
    client.force_login(team_agent)
    html = post(client, "accept", pending_case, accept_data()).content.decode()
    assert "Another case already has this agency reference." in html
    assert 'value="AG-77"' in html
    assert not OutboxAction.objects.exists()


def test_accept_refuses_negative_fees_next_to_the_field(client, team_agent, pending_case):
    client.force_login(team_agent)
    html = post(client, "accept", pending_case, accept_data(collection_fees="-1")).content.decode()
    assert "greater than or equal to 0" in html
    assert not OutboxAction.objects.exists()


def test_accept_by_someone_outside_debituras_team_says_so(client, agent, pending_case):
    client.force_login(agent)  # no TeamMember row, and the fixture's e-mail is not in the team
    agent.email = ""
    agent.save()
    html = post(client, "accept", pending_case, accept_data()).content.decode()
    assert "no e-mail address in the agency" in html
    assert not OutboxAction.objects.exists()


def test_fees_consent_resends_the_refused_change_with_the_agents_choice(client, team_agent, active_case):
    refused = case_fees_update(
        case=active_case,
        actor=team_agent,
        interest_fees=Decimal("1"),
        reminder_fees=Decimal("2"),
        collection_fees=Decimal("3"),
        gross_amount=Decimal("200000"),
    )
    OutboxAction.objects.filter(pk=refused.pk).update(
        state="failed", response={"confirmation_required": True}
    )
    client.force_login(team_agent)
    post(
        client,
        "fees_consent",
        active_case,
        {"token": "tok-consent", "action": str(refused.pk), "choice": "keep"},
    )
    resent = OutboxAction.objects.exclude(pk=refused.pk).get()
    assert resent.payload["keep_intentional_rate"] is True
    assert resent.payload["confirm_price_change"] is False
    assert resent.payload["gross_amount"] == "200000"
    assert (
        'id="action-fees_consent"'
        not in client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    )
