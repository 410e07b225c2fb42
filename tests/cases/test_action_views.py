"""The action forms' POST views: permissions, confirmation, errors next to fields, one row per token."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions import case_fees_update
from cases.models import Case
from cases.panel import resend_initial
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_due
from partnerportal.models import AgencySettings
from tests.fixtures.outbox import NOW

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
    # Out of band: the action log, the chat entry's state and the poller with the new stamp.
    assert re.search(r'<div id="case-children"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<div id="action-state-chat"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<div id="case-live"[^>]*hx-swap-oob="true"', body)
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
    # The lifecycle moves: the whole panel comes back out of band, nothing is swapped in place.
    assert response["HX-Reswap"] == "none"
    assert re.search(r'<section id="case-actions"[^>]*hx-swap-oob="true"', response.content.decode())
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


def form_values(html: str, form_id: str) -> dict[str, str]:
    """The values a browser would send from one form of the page, as it was drawn."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.textarea, self.select = False, "", ""
            self.values: dict[str, str] = {}

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.inside = a.get("id") == form_id
            elif (
                self.inside
                and tag == "input"
                and a.get("name")
                and a.get("type") not in ("radio", "checkbox")
            ):
                self.values[a["name"]] = a.get("value") or ""
            elif self.inside and tag == "textarea":
                self.textarea = a["name"]
                self.values[self.textarea] = ""
            elif self.inside and tag == "option" and "selected" in a:
                self.values[self.select] = a.get("value") or ""
            elif self.inside and tag == "select":
                self.select = a["name"]
                self.values.setdefault(self.select, "")

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "textarea":
                self.textarea = ""

        def handle_data(self, data):
            if self.textarea:
                self.values[self.textarea] += (
                    data.removeprefix("\n") if not self.values[self.textarea] else data
                )

    parser = Fields()
    parser.feed(html)
    return parser.values


def input_tag(html: str, form_id: str, name: str) -> str:
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', form)
    assert found is not None
    return found.group(0)


def page_html(client, case) -> str:
    return client.get(reverse("cases:detail", args=[case.id])).content.decode()


@pytest.fixture
def pending_with_reminder_fees(pending_case, emulator):
    """A pending case whose creditor added 25.00 reminder fees (here and at the emulator)."""
    with emulator.state.lock:
        emulator.state.cases[str(pending_case.pk)].reminder_fees = Decimal("25.00")
    Case.objects.filter(pk=pending_case.pk).update(reminder_fees=Decimal("25.0000"))
    pending_case.refresh_from_db()
    return pending_case


@pytest.mark.parametrize("fees", ["as drawn", "emptied"])
def test_accept_with_the_fees_left_alone_keeps_the_creditors_reminder_fees_at_debitura(
    client, team_agent, pending_with_reminder_fees, emulator, sync_client, queued_relays, fees
):
    case = pending_with_reminder_fees
    client.force_login(team_agent)
    data = form_values(page_html(client, case), "action-accept")
    assert data["reminder_fees"] == "25.00"  # the form starts from the case's fees, as money
    if fees == "emptied":
        data.update(interest_fees="", reminder_fees="", collection_fees="")
    post(client, "accept", case, {**data, "confirmed": "1"})
    action = OutboxAction.objects.get(kind="accept")
    assert action.payload["reminder_fees"] is None  # nothing the agent changed

    outbox_relay_due(client=sync_client, now=NOW)

    remote = emulator.state.cases[str(case.pk)]
    assert (remote.lifecycle, remote.reminder_fees) == ("Active", Decimal("25.00"))
    assert Case.objects.get(pk=case.pk).reminder_fees == Decimal("25")


def test_accept_sends_a_fee_the_agent_changed(
    client, team_agent, pending_with_reminder_fees, emulator, sync_client
):
    case = pending_with_reminder_fees
    client.force_login(team_agent)
    data = form_values(page_html(client, case), "action-accept")
    post(client, "accept", case, {**data, "reminder_fees": "10", "confirmed": "1"})
    assert OutboxAction.objects.get(kind="accept").payload["reminder_fees"] == "10"
    outbox_relay_due(client=sync_client, now=NOW)
    assert emulator.state.cases[str(case.pk)].reminder_fees == Decimal("10")


def test_a_fee_left_alone_is_not_sent_when_the_case_changed_after_the_form_was_drawn(
    client, team_agent, pending_with_reminder_fees
):
    case = pending_with_reminder_fees
    client.force_login(team_agent)
    data = form_values(page_html(client, case), "action-accept")
    assert data["reminder_fees"] == "25.00"
    # A sync brings the creditor's new reminder fees while the agent is still on the form.
    Case.objects.filter(pk=case.pk).update(reminder_fees=Decimal("40.0000"))
    confirm = post(client, "accept", case, data).content.decode()
    assert f"40.00 {case.currency} (unchanged)" in confirm  # the fee the case has now, kept
    post(client, "accept", case, {**form_values(confirm, "action-accept"), "confirmed": "1"})
    assert OutboxAction.objects.get(kind="accept").payload["reminder_fees"] is None


def test_a_resent_accept_keeps_the_placeholder_where_the_agent_put_it(client, team_agent, pending_case):
    client.force_login(team_agent)
    data = form_values(page_html(client, pending_case), "action-accept")
    # A short reference that also appears inside other words and numbers of the message.
    data.update(partner_reference="20", welcome_message="Since 2020 we collect; quote {agency_reference}.")
    post(client, "accept", pending_case, {**data, "confirmed": "1"})
    action = OutboxAction.objects.get(kind="accept")
    assert action.payload["welcome_message"] == "Since 2020 we collect; quote 20."
    assert resend_initial(action)["welcome_message"] == "Since 2020 we collect; quote {agency_reference}."


def test_the_welcome_message_follows_the_reference_the_agent_gives(client, team_agent, pending_case):
    settings = AgencySettings.load()
    settings.partner_reference_pattern = "SUG-{seq:03d}"
    settings.save()
    client.force_login(team_agent)
    data = form_values(page_html(client, pending_case), "action-accept")
    assert data["partner_reference"] == "SUG-001"

    data["partner_reference"] = "MINE-42"
    confirm = post(client, "accept", pending_case, data).content.decode()
    # The confirmation step repeats the final text: the reference given, not the one suggested.
    assert "our reference MINE-42 and" in confirm
    assert "SUG-001" not in confirm.split('<section class="confirm-step"')[1].split("<input")[0]

    post(client, "accept", pending_case, {**data, "confirmed": "1"})
    message = OutboxAction.objects.get(kind="accept").payload["welcome_message"]
    assert "our reference MINE-42 and" in message
    assert "SUG-001" not in message
    assert "{agency_reference}" not in message


def test_the_welcome_message_says_debituras_reference_when_the_agent_gives_none(
    client, team_agent, pending_case
):
    client.force_login(team_agent)
    data = form_values(page_html(client, pending_case), "action-accept")
    post(client, "accept", pending_case, {**data, "partner_reference": "", "confirmed": "1"})
    message = OutboxAction.objects.get(kind="accept").payload["welcome_message"]
    assert f"our reference {pending_case.reference} and" in message


def test_the_reference_line_under_the_welcome_message_follows_the_typed_reference(
    client, team_agent, pending_case
):
    client.force_login(team_agent)
    url = reverse("cases:accept_reference", args=[pending_case.id])
    html = client.get(url, {"partner_reference": "AG-<7>"}, headers={"HX-Request": "true"}).content.decode()
    assert "{agency_reference} will read <strong>AG-&lt;7&gt;</strong>" in html
    empty = client.get(url, {"partner_reference": ""}).content.decode()
    assert f"<strong>{pending_case.reference}</strong>" in empty


@pytest.mark.parametrize(
    ("name", "case_fixture", "data"),
    [
        ("chat", "active_case", {"message": "We reached the debtor."}),
        ("decline", "pending_case", {"reason": "outside_jurisdiction", "text": "Debtor in Peru"}),
        ("close", "active_case", {"close_code": "UneconomicalToPursue", "comment": "Too small"}),
        (
            "accept",
            "pending_case",
            {"welcome_message": "Welcome, we take it from here.", "partner_reference": ""},
        ),
    ],
)
def test_a_confirmation_step_names_every_value_and_never_says_none(
    request, client, team_agent, name, case_fixture, data
):
    case = request.getfixturevalue(case_fixture)
    client.force_login(team_agent)
    html = post(client, name, case, {"token": f"tok-{name}", **data}, htmx=True).content.decode()
    step = html.split('class="confirm-step"')[1]
    assert "<dt>None</dt>" not in step
    assert "None" not in step.split("</dl>")[0]
    for label in ("Message", "Reason", "Explanation", "Comment", "Welcome message"):
        if label.lower().replace(" ", "_") in data or (label, name) in {("Explanation", "decline")}:
            assert f"<dt>{label}</dt>" in step, label
    # Not a button group: Pico lays [role=group] out as one row of buttons.
    assert 'role="group"' not in html


def test_the_close_form_chooses_no_code_by_default(client, team_agent, active_case):
    client.force_login(team_agent)
    data = form_values(page_html(client, active_case), "action-close")
    assert data["close_code"] == ""
    html = post(client, "close", active_case, {**data, "confirmed": "1"}).content.decode()
    assert "This field is required." in html
    assert not OutboxAction.objects.exists()


def test_picking_paid_on_an_unpaid_case_says_debituras_rule_at_once_in_money(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(
        currency="EUR",
        gross_amount=Decimal("1858.0800"),
        interest_fees=0,
        reminder_fees=0,
        collection_fees=0,
        remainder=Decimal("1858.0800"),
    )
    client.force_login(team_agent)
    # What the select sends on change (htmx): the form, with check=close_code.
    data = {"token": "tok-close-check", "close_code": "Paid", "comment": "", "check": "close_code"}
    html = post(client, "close", active_case, data, htmx=True).content.decode()
    assert "Paid needs payments covering the outstanding 1,858.08 EUR; payments so far: 0.00 EUR." in html
    assert "Close the case at Debitura?" not in html  # a check, not the confirmation step
    assert "Say why" not in html  # other fields are not judged before the agent got to them
    assert not OutboxAction.objects.exists()
    # And on submit, before the confirmation step.
    html = post(client, "close", active_case, {**data, "check": ""}).content.decode()
    assert "Paid needs payments covering the outstanding 1,858.08 EUR" in html
    assert "Close the case at Debitura?" not in html


def test_fee_inputs_show_and_take_the_currencys_decimals(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(
        currency="EUR", interest_fees=Decimal("1799.3400"), reminder_fees=Decimal("0.0000")
    )
    client.force_login(team_agent)
    html = page_html(client, active_case)
    data = form_values(html, "action-fees")
    assert (data["interest_fees"], data["reminder_fees"]) == ("1799.34", "0.00")
    assert 'step="0.01"' in input_tag(html, "action-fees", "interest_fees")
    html = post(client, "fees", active_case, {**data, "collection_fees": "1.005"}).content.decode()
    assert "Use at most 2 decimals." in html


def test_a_yen_case_takes_whole_yen_only(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(currency="JPY", interest_fees=Decimal("1500.0000"))
    client.force_login(team_agent)
    html = page_html(client, active_case)
    data = form_values(html, "action-fees")
    assert data["interest_fees"] == "1500"
    assert 'step="1"' in input_tag(html, "action-fees", "interest_fees")
    html = post(client, "fees", active_case, {**data, "collection_fees": "10.5"}).content.decode()
    assert "JPY amounts have no decimals." in html
    assert not OutboxAction.objects.exists()


@pytest.mark.parametrize("typed", ["1_000", "\uff11\uff10", "1e3", "1,5", " 12.5.1"])
def test_amounts_are_plain_decimal_digits_only(client, team_agent, active_case, typed):
    client.force_login(team_agent)
    data = form_values(page_html(client, active_case), "action-fees")
    html = post(client, "fees", active_case, {**data, "collection_fees": typed}).content.decode()
    assert "plain digits" in html
    assert not OutboxAction.objects.exists()


def test_a_note_dated_before_the_claim_is_refused(client, team_agent, active_case):
    claim = timezone.now().replace(year=2024, month=3, day=1)
    Case.objects.filter(pk=active_case.pk).update(claim_date=claim)
    client.force_login(team_agent)
    html = page_html(client, active_case)
    assert 'min="2024-03-01T00:00"' in html
    for typed in ("1900-01-01T10:00", "2024-02-29T10:00"):
        data = {"token": "tok-note-old", "description": "Old news", "event_date": typed}
        assert (
            "Cannot be before 2024-03-01 (the claim date)."
            in post(client, "note", active_case, data).content.decode()
        )
    assert not OutboxAction.objects.exists()
