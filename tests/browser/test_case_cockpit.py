"""The case page as an agent's cockpit, in a real browser: what it leads with by lifecycle, each
action's pending, done and failed states where the agent acted, and the page following the case
live (relay answers, syncs, a creditor's message) without a reload."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases.models import Case
from cases.sync import case_refresh
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_due
from partnerportal.templatetags.portal import money
from tests.browser.case_page import LIVE_MS, confirm, open_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_case(page, sign_in, team_agent, queued_relays):
    """An agent of Debitura's team on a case page; relays stay queued until the test runs them."""

    def go(case: Case, *, width: int = 1440, height: int = 900):
        page.set_viewport_size({"width": width, "height": height})
        sign_in(team_agent)
        page.goto(f"/cases/{case.id}/")
        return page

    return go


def test_a_new_assignment_leads_with_accept_and_decline_and_nothing_else(open_case, pending_case):
    page = open_case(pending_case)
    entries = page.locator("#case-actions details.action-item summary .action-title")
    expect(entries).to_have_text(["Accept the case", "Decline the case"])
    expect(page.locator("#item-accept")).to_have_attribute("open", "")
    # Accept and Decline are on the first screen at 1440x900.
    for name in ("Accept…", "Decline the case"):
        box = page.get_by_role("button", name=name).or_(page.locator("summary", has_text=name)).first
        assert box.bounding_box()["y"] + box.bounding_box()["height"] <= 900, name


def test_the_welcome_message_says_the_reference_as_it_is_typed(open_case, pending_case):
    page = open_case(pending_case)
    form = page.locator("#action-accept")
    form.get_by_label("Agency reference").fill("AG-TYPED-7")
    expect(form.locator("#accept-welcome-reference")).to_contain_text("will read AG-TYPED-7")
    # Only that line was swapped: the form and what was typed are still there.
    expect(form.get_by_label("Agency reference")).to_have_value("AG-TYPED-7")
    form.get_by_role("button", name="Accept…").click()
    expect(page.locator("#action-accept .confirm-step")).to_contain_text("our reference AG-TYPED-7")


def test_an_active_case_shows_its_actions_compactly_with_money_exclusivity_and_chat_above_the_fold(
    open_case, active_case, emulator, sync_client
):
    emulator.creditor_message(str(active_case.pk), "Any news on this one?")
    case_refresh(case_id=str(active_case.pk), client=sync_client)
    page = open_case(active_case)
    entries = page.locator("#case-actions details.action-item summary .action-title")
    expect(entries).to_have_text(
        [
            "Add a note",
            "Record a payment",
            "Record a promise to pay",
            "Update fees",
            "Add files",
            "Close the case",
        ]
    )
    expect(page.locator("#case-actions details[open]")).to_have_count(0)
    for locator in (
        page.locator(".money-line [data-field=remainder]"),
        page.locator(".money-exclusivity"),
        page.locator(".chat-log .chat").first,  # the newest message: the log opens at the bottom
        page.get_by_role("button", name="Send…"),
    ):
        box = locator.bounding_box()
        assert box is not None, locator
        assert box["y"] + box["height"] <= 900, locator
    expect(page.locator(".chat-log .chat").first).to_contain_text("Any news on this one?")


def test_one_action_form_is_open_at_a_time(open_case, active_case):
    page = open_case(active_case)
    open_entry(page, "Add a note")
    open_entry(page, "Update fees")
    expect(page.locator("#case-actions details[open]")).to_have_count(1)
    expect(page.locator("#item-fees")).to_have_attribute("open", "")


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 800)])
@pytest.mark.parametrize(
    ("entry", "fill", "submit", "confirm"),
    [
        ("Close the case", {"Comment": "Too small to pursue."}, "Close…", "Confirm: close the case"),
        ("Update fees", {"Interest": "12.50"}, "Update fees…", "Confirm: update fees"),
    ],
)
def test_a_confirmation_step_fits_its_entry_and_the_window(
    open_case, active_case, width, height, entry, fill, submit, confirm
):
    page = open_case(active_case, width=width, height=height)
    details = open_entry(page, entry)
    if entry == "Close the case":
        details.get_by_label("Close code").select_option("UneconomicalToPursue")
    for label, value in fill.items():
        details.get_by_label(label).fill(value)
    details.get_by_role("button", name=submit).click()
    step = details.locator(".confirm-step")
    expect(step).to_be_visible()
    button = details.get_by_role("button", name=confirm)
    button.scroll_into_view_if_needed()
    outer, inner, question = (
        details.bounding_box(),
        button.bounding_box(),
        step.locator("p").first.bounding_box(),
    )
    assert inner["x"] >= outer["x"]
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"]
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    assert outer["x"] + outer["width"] <= width
    # The question spans the entry, not a narrow column of a button row.
    assert question["width"] > 0.7 * (outer["width"] - 40)
    expect(step).not_to_contain_text("None")


@pytest.mark.parametrize("entry", ["Accept the case", "Decline the case"])
def test_the_confirmation_steps_of_a_new_assignment_fit_at_1280(open_case, pending_case, entry):
    page = open_case(pending_case, width=1280, height=800)
    details = open_entry(page, entry)
    details.get_by_role("button", name="Accept…" if entry.startswith("Accept") else "Decline…").click()
    step = details.locator(".confirm-step")
    expect(step).to_be_visible()
    expect(step).not_to_contain_text("None")
    button = details.get_by_role("button", name=f"Confirm: {entry.lower()}")
    button.scroll_into_view_if_needed()
    outer, inner = details.bounding_box(), button.bounding_box()
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] <= 1280
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"]


def test_a_failed_accept_brings_back_the_accept_form_with_debituras_words_and_resends(
    open_case, pending_case, team_agent, emulator, sync_client
):
    page = open_case(pending_case)
    form = page.locator("#action-accept")
    form.get_by_label("Agency reference").fill("AG-REFUSED-1")
    form.get_by_role("button", name="Accept…").click()
    confirm(form, "Confirm: accept the case")
    expect(page.locator("#case-status")).to_contain_text("Accept pending")
    expect(page.locator("#action-state-lifecycle")).to_contain_text("on its way to Debitura")

    # Debitura refuses: the agent is no longer an active member of the team there.
    with emulator.state.lock:
        emulator.state.users[str(team_agent.team_member.id)].active = False
    outbox_relay_due(client=sync_client)

    state = page.locator("#action-state-lifecycle")
    expect(state).to_contain_text("Debitura refused the accept", timeout=LIVE_MS)
    expect(state).to_contain_text("not an active member")
    expect(page.locator("#case-status")).to_contain_text("Pending Verification")
    entries = page.locator("#case-actions details.action-item summary .action-title")
    expect(entries).to_have_text(["Accept the case", "Decline the case"])  # not the Active forms
    expect(page.locator("#messages")).not_to_contain_text("queued")

    state.get_by_role("button", name="Edit and resend").click()
    expect(page.locator("#action-accept").get_by_label("Agency reference")).to_have_value("AG-REFUSED-1")
    expect(page.locator("#item-accept")).to_have_attribute("open", "")
    assert OutboxAction.objects.get().state == "failed"


def test_a_decline_once_done_says_declined_not_pending(open_case, pending_case, sync_client):
    page = open_case(pending_case)
    open_entry(page, "Decline the case")
    page.locator("#action-decline").get_by_label("Reason").select_option(label="Debtor untraceable")
    page.get_by_role("button", name="Decline…").click()
    confirm(page.locator("#action-decline"), "Confirm: decline the case")
    expect(page.locator("#action-state-lifecycle")).to_contain_text("Decline pending")

    outbox_relay_due(client=sync_client)

    expect(page.locator("#action-state-lifecycle")).to_contain_text("Declined", timeout=LIVE_MS)
    expect(page.locator("#case-actions")).not_to_contain_text("pending")
    expect(page.locator("#case-status")).to_contain_text("Closed")
    expect(page.locator("#case-status")).to_contain_text("Debtor Untraceable")


def test_the_head_follows_a_recorded_payment_once_debitura_confirmed_it(
    open_case, active_case, sync_client, monkeypatch
):
    import payments.services

    monkeypatch.setattr(payments.services, "get_client", lambda: sync_client)
    page = open_case(active_case)
    details = open_entry(page, "Record a payment")
    details.get_by_label("Amount").fill("100")
    details.get_by_label("The agency (us)").check()
    details.get_by_role("button", name="Record payment").click()
    pending = money(Decimal(100), active_case.currency)
    expect(page.locator(".money-line [data-field=paid]")).to_contain_text(f"+ {pending} pending")
    expect(page.locator("#action-badge-payment")).to_contain_text("Pending")

    outbox_relay_due(client=sync_client)

    case = Case.objects.get(pk=active_case.pk)
    remainder = money(case.remainder, case.currency)
    expect(page.locator(".money-line [data-field=remainder]")).to_have_text(remainder, timeout=LIVE_MS)
    expect(page.locator("#case-payments [data-remainder]")).to_have_text(remainder)
    expect(page.locator(".money-line [data-field=paid]")).not_to_contain_text("pending")
    expect(page.locator("#action-badge-payment")).to_contain_text("Payment recorded")


def test_a_creditor_message_shows_on_the_open_page_without_a_reload(
    open_case, active_case, emulator, sync_client
):
    page = open_case(active_case)

    # As the webhook's refresh would: Debitura has a new message, the portal fetches the case.
    emulator.creditor_message(str(active_case.pk), "The debtor called us today.")
    case_refresh(case_id=str(active_case.pk), client=sync_client)

    newest = page.locator(".chat-log .chat").first
    expect(newest).to_contain_text("The debtor called us today.", timeout=LIVE_MS)
    expect(newest).to_contain_text("new")  # read on the agent's open page: marked new this once
    expect(page.locator("#case-chat [data-unread]")).to_be_visible()


def test_what_the_agent_typed_stays_while_the_page_follows_the_case(
    open_case, active_case, emulator, sync_client
):
    page = open_case(active_case)
    details = open_entry(page, "Add a note")
    details.get_by_label("Note", exact=True).fill("Half-written note")
    page.locator("#action-chat").get_by_label("Message", exact=True).fill("Half-written message")

    emulator.creditor_message(str(active_case.pk), "Ping")
    case_refresh(case_id=str(active_case.pk), client=sync_client)

    expect(page.locator(".chat-log .chat").first).to_contain_text("Ping", timeout=LIVE_MS)
    expect(page.locator("#item-note")).to_have_attribute("open", "")
    expect(page.locator("#action-note").get_by_label("Note", exact=True)).to_have_value("Half-written note")
    expect(page.locator("#action-chat").get_by_label("Message", exact=True)).to_have_value(
        "Half-written message"
    )


def test_a_viewer_sees_the_case_live_but_no_forms(page, sign_in, viewer, active_case, emulator, sync_client):
    sign_in(viewer)
    page.goto(f"/cases/{active_case.id}/")
    expect(page.locator("form.action-form")).to_have_count(0)
    expect(page.locator("#case-actions")).to_have_count(0)
    emulator.creditor_message(str(active_case.pk), "Seen by a viewer")
    case_refresh(case_id=str(active_case.pk), client=sync_client)
    expect(page.locator(".chat-log .chat").first).to_contain_text("Seen by a viewer", timeout=LIVE_MS)


def test_a_page_whose_session_ended_says_so_and_stops_asking(open_case, active_case, emulator, sync_client):
    page = open_case(active_case)
    expect(page.locator("#case-signed-out")).to_be_hidden()
    page.context.clear_cookies()  # the session ended with the page open
    emulator.creditor_message(str(active_case.pk), "After the session ended")
    case_refresh(case_id=str(active_case.pk), client=sync_client)

    expect(page.locator("#case-signed-out")).to_be_visible(timeout=LIVE_MS)
    expect(page.locator("#case-live")).to_have_count(0)
    expect(page.get_by_label("Username")).to_have_count(0)  # no login form swapped into the page
    expect(page.locator("#case-head")).to_contain_text(active_case.reference)


def test_closing_as_paid_says_debituras_rule_as_the_code_is_picked_and_keeps_the_comment(
    open_case, active_case
):
    Case.objects.filter(pk=active_case.pk).update(remainder=Decimal("100"))
    page = open_case(active_case)
    details = open_entry(page, "Close the case")
    expect(details.get_by_label("Close code")).to_have_value("")  # nothing chosen for the agent
    details.get_by_label("Close code").select_option("Paid")
    details.get_by_label("Comment").fill("Typed while the check was on its way")
    expect(details).to_contain_text("Paid needs payments covering the outstanding")
    expect(details.get_by_label("Comment")).to_have_value("Typed while the check was on its way")
    assert not OutboxAction.objects.exists()
