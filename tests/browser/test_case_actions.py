"""Acting on a case in a real browser: confirmation steps, pending rows, and the relay's answer
showing up through the page's polling without a reload.

Each waits on what the page shows (a confirmation step bound by htmx, a badge), never on time: the
same steps pass with both cores busy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_due
from tests.browser.case_page import LIVE_MS, assert_not_reloaded, confirm, open_entry, settled, stay_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_case(page, sign_in, team_agent, queued_relays):
    """Sign in as an agent of Debitura's team and open a case; relays stay queued until the test runs them."""

    def go(case: Case):
        sign_in(team_agent)
        page.goto(f"/cases/{case.id}/")
        return page

    return go


def log_row(page, kind: str):
    return page.locator(f'#case-action-log tr[data-kind="{kind}"]').first


def test_accepting_a_case_shows_it_pending_then_done_once_the_relay_ran(open_case, pending_case, sync_client):
    page = open_case(pending_case)
    stay_on(page)
    form = page.locator("#action-accept")
    expect(form.get_by_label("Welcome message")).to_have_value(re.compile(pending_case.reference))
    form.get_by_label("Agency reference").fill("AG-BROWSER-1")
    form.get_by_role("button", name="Accept…").click()
    confirm(form, "Confirm: accept the case")

    expect(page.locator("#case-status")).to_contain_text("Accept pending")
    expect(log_row(page, "accept").locator(".badge")).to_have_text("Pending")
    assert OutboxAction.objects.get().payload["partner_reference"] == "AG-BROWSER-1"

    outbox_relay_due(client=sync_client)

    # No reload: the page polls and the badges flip.
    expect(log_row(page, "accept").locator(".badge")).to_have_text("Done", timeout=LIVE_MS)
    expect(page.locator("#case-status")).to_contain_text("Active")
    assert Case.objects.get(pk=pending_case.pk).lifecycle == "Active"
    assert_not_reloaded(page)


def test_declining_a_case_asks_for_confirmation_and_queues_a_close(open_case, pending_case, sync_client):
    page = open_case(pending_case)
    stay_on(page)
    open_entry(page, "Decline the case")
    form = page.locator("#action-decline")
    form.get_by_label("Reason").select_option(label="Outside our jurisdiction")
    form.get_by_label("Explanation").fill("Debtor moved to Peru")
    form.get_by_role("button", name="Decline…").click()
    step = confirm(form, "Confirm: decline the case")
    expect(step).to_contain_text("Decline the case? Debitura closes it")

    expect(page.locator("#case-status")).to_contain_text("Decline pending")
    outbox_relay_due(client=sync_client)
    expect(log_row(page, "decline").locator(".badge")).to_have_text("Done", timeout=LIVE_MS)
    case = Case.objects.get(pk=pending_case.pk)
    assert (case.lifecycle, case.close_code) == ("Closed", "Other")
    assert_not_reloaded(page)


def test_closing_a_case_with_a_code(open_case, active_case, sync_client):
    page = open_case(active_case)
    stay_on(page)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type != "log" else None)
    open_entry(page, "Close the case")
    form = page.locator("#action-close")
    form.get_by_label("Close code").select_option("UneconomicalToPursue")
    form.get_by_role("button", name="Close…").click()
    confirm(form, "Confirm: close the case")

    expect(page.locator("#case-status")).to_contain_text("Close pending")
    outbox_relay_due(client=sync_client)
    expect(log_row(page, "close").locator(".badge")).to_have_text("Done", timeout=LIVE_MS)
    assert Case.objects.get(pk=active_case.pk).close_code == "UneconomicalToPursue"
    assert_not_reloaded(page)
    # The code's check is the select's own request: htmx warned it found no button to disable.
    assert console == []


def test_adding_a_note_and_sending_a_chat_message(open_case, active_case, sync_client, emulator):
    page = open_case(active_case)
    stay_on(page)
    open_entry(page, "Add a note")
    note = page.locator("#action-note")
    note.get_by_label("Note").fill("Called the debtor; promised Friday.")
    note.get_by_role("button", name="Add note").click()
    expect(log_row(page, "note").locator(".badge")).to_have_text("Pending")
    expect(note.get_by_label("Note")).to_have_value("")  # a fresh form
    settled(note)

    chat = page.locator("#action-chat")
    chat.get_by_label("Message").fill("We reached the debtor today.")
    chat.get_by_role("button", name="Send…").click()
    confirm(chat, "Confirm: message the creditor")
    expect(log_row(page, "chat").locator(".badge")).to_have_text("Pending")

    outbox_relay_due(client=sync_client)
    expect(log_row(page, "chat").locator(".badge")).to_have_text("Done", timeout=LIVE_MS)
    expect(log_row(page, "note").locator(".badge")).to_have_text("Done")
    remote = emulator.state.cases[str(active_case.pk)]
    assert any(m.message == "We reached the debtor today." for m in remote.chats)
    assert_not_reloaded(page)


def test_a_viewer_sees_no_action_forms(page, sign_in, viewer, active_case):
    sign_in(viewer)
    page.goto(f"/cases/{active_case.id}/")
    expect(page.locator("h1")).to_contain_text(active_case.reference)
    expect(page.locator("form.action-form")).to_have_count(0)
