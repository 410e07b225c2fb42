"""Working one case at a time on the real stack, as an agent would, checked on both sides.

Each flow takes a fresh case of its own (conftest.PENDING / ACTIVE), acts through the case page
with clicks and typing, waits for the page to say the action is done where it was taken (without a
reload), then checks that Debitura had the effect exactly once (the emulator's request log, read
once and complete by then, and its state), and checks every page it passes through
(tests/fixtures/pages.py).
"""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from partnerportal.templatetags.portal import money as money_text
from tests.e2e.flows import (
    WAIT_MS,
    action_form,
    action_panel,
    case_header,
    confirm_step,
    expect_done,
    expect_logged_done,
    lifecycle_badge,
    money,
    only_write,
    open_action,
    open_case,
)
from tests.fixtures.stack import EmulatorControl

pytestmark = [pytest.mark.e2e]

# A 1x1 PNG: opened inline by the portal, so the browser shows it rather than downloading it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)


def digits(amount: float | str | Decimal, places: int = 2) -> str:
    """How an amount reads in a form field: plain digits in the currency's decimals."""
    return f"{Decimal(str(amount)):.{places}f}"


def fees(case: dict) -> tuple[str, str, str]:
    return digits(case["interestFees"]), digits(case["reminderFees"]), digits(case["collectionFees"])


def action_titles(page):
    """The titles of what the action panel offers now."""
    return action_panel(page).locator("details.action-item > summary .action-title")


def writes_since(emulator: EmulatorControl, case_id: str, mark: int) -> list[tuple[str, str]]:
    """The writes Debitura received for a case since `mark`, as (method, path) in order."""
    return [(r["method"], r["path"]) for r in emulator.writes(case_id, since=mark)]


def test_accepting_with_an_agency_reference_then_finding_the_case_by_it(
    browser_as, emulator_api, stack_cases, check
):
    case = stack_cases["accept"]
    reference = "AG-E2E-0001"
    before = emulator_api.case(case["id"])
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    expect(lifecycle_badge(page)).to_have_text("Pending Verification")
    check(page)

    form = action_form(page, "Accept the case")
    # The form starts from the case's fees, in the currency's decimals (issue 12, #4 and #11).
    for label, value in zip(("Interest", "Reminder fees", "Collection fees"), fees(before), strict=True):
        expect(form.get_by_label(label, exact=True)).to_have_value(value)
    form.get_by_label("Agency reference").fill(reference)
    expect(form.locator(".welcome-reference")).to_contain_text(reference)  # the message follows (#5)
    form.get_by_role("button", name="Accept…").click()
    step = confirm_step(form)
    expect(step).to_contain_text(reference)
    check(page)
    step.get_by_role("button", name="Confirm: accept the case").click()

    expect_done(page, "lifecycle", "Accepted")  # live, no reload
    start = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/start")
    assert start["body"]["collectionPartnerReference"] == reference
    assert reference in start["body"]["welcomeMessage"]
    after = emulator_api.case(case["id"])
    assert after["lifecycle"] == "Active"
    assert fees(after) == fees(before)  # nothing the agent did not touch
    assert emulator_api.get(f"/cases/by-partner-reference/{reference}")["id"] == case["id"]

    expect(lifecycle_badge(page)).to_have_text("Active", timeout=WAIT_MS)
    expect(case_header(page)).to_contain_text(reference)
    expect(page.get_by_role("button", name="Accept…")).to_have_count(0)
    check(page)
    page.reload()
    expect(case_header(page)).to_contain_text(reference)

    page.goto("/cases/")
    search = page.get_by_label("Search cases")
    search.fill(reference)
    search.press("Enter")  # an exact agency reference opens its case
    expect(page).to_have_url(re.compile(rf"/cases/{case['id']}/$"))
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/start")]
    check.verify()


def test_declining_closes_the_case_at_debitura_with_the_matching_code(
    browser_as, emulator_api, stack_cases, check
):
    case = stack_cases["decline"]
    explanation = "No address or telephone number reaches the debtor."
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Decline the case")
    form.get_by_label("Reason").select_option(label="Debtor untraceable")
    form.get_by_label("Explanation").fill(explanation)
    form.get_by_role("button", name="Decline…").click()
    step = confirm_step(form)
    expect(step).to_contain_text("Debtor untraceable")
    expect(step).to_contain_text(explanation)
    check(page)
    step.get_by_role("button", name="Confirm: decline the case").click()

    expect_done(page, "lifecycle", "Declined")
    close = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/close")
    assert close["body"]["closeCode"] == "DebtorUntraceable"
    assert explanation in close["body"]["comment"]
    assert emulator_api.case(case["id"])["lifecycle"] == "Closed"

    expect(lifecycle_badge(page)).to_have_text("Closed", timeout=WAIT_MS)
    expect(action_panel(page)).not_to_contain_text(re.compile(r"pending", re.IGNORECASE))
    expect(page.get_by_role("button", name=re.compile(r"^(Accept|Decline)"))).to_have_count(0)
    expect(action_titles(page)).to_have_text(["Add files"])
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/close")]
    check.verify()


def test_a_note_reaches_the_timeline_once(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["note"]
    note = "Called the debtor; promised to pay half by the end of the month."
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Add a note")
    form.get_by_label("Note", exact=True).fill(note)
    form.get_by_role("button", name="Add note").click()

    expect_done(page, "note", "Note added")
    sent = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/notes")
    assert sent["body"]["description"] == note
    assert [i for i in emulator_api.timeline(case["id"]) if i["description"] == note]

    expect(page.get_by_role("main").get_by_text(note).first).to_be_visible(timeout=WAIT_MS)
    expect(form.get_by_label("Note", exact=True)).to_have_value("")  # ready for the next one
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/notes")]
    check.verify()


def test_a_chat_message_reaches_the_creditor_once(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["chat"]
    message = "Dear creditor, the debtor has asked for a payment plan over three months."
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Message the creditor")
    form.get_by_label("Message").fill(message)
    form.get_by_role("button", name="Send…").click()
    step = confirm_step(form)
    expect(step).to_contain_text(message)
    check(page)
    step.get_by_role("button", name="Confirm: message the creditor").click()

    expect_done(page, "chat", "Message sent")
    sent = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/chats")
    assert sent["body"]["message"] == message
    assert sent["idempotencyKey"]
    assert [c["message"] for c in emulator_api.chats(case["id"])].count(message) == 1

    expect(page.get_by_role("main").get_by_text(message).first).to_be_visible(timeout=WAIT_MS)
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/chats")]
    check.verify()


def test_changing_one_fee_sends_it_and_keeps_the_others(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["fees"]
    before = emulator_api.case(case["id"])
    interest, reminder, collection = fees(before)
    new_reminder = digits(Decimal(reminder) + Decimal("12.50"))
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Update fees")
    field = form.get_by_label("Reminder fees", exact=True)
    expect(field).to_have_value(reminder)
    field.fill(new_reminder)
    form.get_by_role("button", name="Update fees…").click()
    step = confirm_step(form)
    expect(step).to_contain_text(new_reminder)
    check(page)
    step.get_by_role("button", name="Confirm: update fees").click()

    expect_done(page, "fees", "Fees updated")
    put = only_write(emulator_api, case["id"], mark, "PUT", f"/cases/{case['id']}/fees")
    assert digits(put["body"]["reminderFees"]) == new_reminder
    after = emulator_api.case(case["id"])
    assert fees(after) == (interest, new_reminder, collection)

    # The head follows without a reload (#9).
    expect(money(page, "Reminder fees")).to_have_text(
        money_text(new_reminder, before["currency"]), timeout=WAIT_MS
    )
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("PUT", f"/cases/{case['id']}/fees")]
    check.verify()


def test_recording_correcting_and_deleting_a_payment(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["payments"]
    path = f"/cases/{case['id']}/payments"
    before = emulator_api.case(case["id"])
    currency, remainder = before["currency"], Decimal(str(before["remainder"]))
    start = mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Record a payment")
    form.get_by_label("Payment date").fill(date.today().isoformat())
    form.get_by_label("Amount").fill("100.00")
    form.get_by_label("The agency (us)").check()
    # The estimate follows what is typed.
    expect(form.locator("#payment-preview")).to_contain_text(money_text(remainder - 100, currency))
    check(page)
    form.get_by_role("button", name="Record payment").click()

    expect_done(page, "payment", "Payment recorded")
    recorded = only_write(emulator_api, case["id"], mark, "POST", path)
    assert Decimal(str(recorded["body"]["paymentAmount"])) == Decimal("100")
    assert recorded["idempotencyKey"]
    remote = emulator_api.payments(case["id"])
    assert [Decimal(str(p["grossAmount"])) for p in remote] == [Decimal("100")]
    after = emulator_api.case(case["id"])
    payments = page.get_by_role("region", name="Payments")
    row = payments.locator("tbody tr").filter(has_text=money_text(100, currency))
    expect(row).to_contain_text(f"Debitura id {remote[0]['id']}", timeout=WAIT_MS)
    # The head agrees with the payments below it and with Debitura (#9).
    expect(money(page, "Paid")).to_have_text(money_text(100, currency), timeout=WAIT_MS)
    expect(money(page, "Remainder")).to_have_text(money_text(after["remainder"], currency), timeout=WAIT_MS)
    check(page)

    row.get_by_role("link", name="Correct…").click()
    correct = action_form(page, "Correct the payment")
    correct.get_by_label("Amount").fill("80.00")
    mark = emulator_api.mark()
    correct.get_by_role("button", name="Save the correction").click()

    # Back on the case page, which follows the correction until Debitura has it.
    expect(page).to_have_url(re.compile(rf"/cases/{case['id']}/(#.*)?$"))
    expect_logged_done(page, "payment_update")
    only_write(emulator_api, case["id"], mark, "PUT", f"{path}/{remote[0]['id']}")
    assert [Decimal(str(p["grossAmount"])) for p in emulator_api.payments(case["id"])] == [Decimal("80")]
    expect(money(page, "Paid")).to_have_text(money_text(80, currency), timeout=WAIT_MS)
    check(page)
    row = (
        page.get_by_role("region", name="Payments")
        .locator("tbody tr")
        .filter(has_text=money_text(80, currency))
    )
    expect(row).to_have_count(1, timeout=WAIT_MS)
    row.get_by_role("link", name="Correct…").click()
    delete = action_form(page, "Delete the payment")
    delete.get_by_role("button", name="Delete the payment…").click()
    mark = emulator_api.mark()
    page.get_by_role("button", name="Confirm: delete the payment").click()

    expect(page).to_have_url(re.compile(rf"/cases/{case['id']}/(#.*)?$"))
    expect_logged_done(page, "payment_delete")
    only_write(emulator_api, case["id"], mark, "DELETE", f"{path}/{remote[0]['id']}")
    assert emulator_api.payments(case["id"]) == []
    expect(page.get_by_role("region", name="Payments").locator("tbody tr")).to_have_count(0, timeout=WAIT_MS)
    expect(money(page, "Paid")).to_have_text(money_text(0, currency))
    expect(money(page, "Remainder")).to_have_text(money_text(remainder, currency))
    check(page)
    # Still once each, now that the page shows them done: nothing was sent again.
    assert [m for m, _ in writes_since(emulator_api, case["id"], start)] == ["POST", "PUT", "DELETE"]
    check.verify()


def test_uploading_a_file_then_opening_it(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["upload"]
    name = "e2e-receipt.png"
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    open_action(page, "Add files")
    page.get_by_label("Choose files").set_input_files({"name": name, "mimeType": "image/png", "buffer": PNG})
    check(page)
    page.get_by_role("button", name="Upload").click()

    expect_done(page, "upload", "File sent")
    only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/files")
    remote = [f for f in emulator_api.files(case["id"]) if f["fileName"] == name]
    assert len(remote) == 1
    files = page.get_by_role("region", name="Files", exact=True)
    link = files.get_by_role("link", name=name)
    expect(link).to_have_count(1, timeout=WAIT_MS)  # one row: the upload became Debitura's file
    expect(files).not_to_contain_text(re.compile(r"queued|pending", re.IGNORECASE), timeout=WAIT_MS)
    check(page)

    # The file opens in a new tab, through the portal, with what was uploaded.
    with page.context.expect_event(
        "response", lambda r: f"/cases/{case['id']}/files/" in r.url and r.request.method == "GET"
    ) as answer:
        link.click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "image/png"
    assert answer.value.body() == PNG
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/files")]
    check.verify()


def test_closing_a_case_asks_for_a_code_and_leaves_no_forms(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["close"]
    mark = emulator_api.mark()
    page = browser_as("agent")
    open_case(page, case)
    form = action_form(page, "Close the case")
    code = form.get_by_label("Close code")
    expect(code).to_have_value("")  # nothing chosen for the agent (#10)
    code.select_option(value="DebtorUntraceable")
    form.get_by_label("Comment").fill("Moved abroad; no address found.")
    form.get_by_role("button", name="Close…").click()
    step = confirm_step(form)
    check(page)
    step.get_by_role("button", name="Confirm: close the case").click()

    expect_done(page, "lifecycle", "Closed")
    close = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/close")
    assert close["body"]["closeCode"] == "DebtorUntraceable"
    assert emulator_api.case(case["id"])["lifecycle"] == "Closed"

    expect(lifecycle_badge(page)).to_have_text("Closed", timeout=WAIT_MS)
    expect(action_panel(page)).not_to_contain_text(re.compile(r"pending", re.IGNORECASE))
    expect(action_titles(page)).to_have_text(["Add files"])  # a closed case takes files only
    check(page)
    # Still once, now that the page shows it done: nothing was sent again.
    assert writes_since(emulator_api, case["id"], mark) == [("POST", f"/cases/{case['id']}/close")]
    check.verify()


def test_a_creditor_message_arrives_on_the_open_case_page_without_a_reload(
    browser_as, emulator_api, stack_cases, check
):
    case = stack_cases["creditor-message"]
    message = "We spoke to the debtor, who will pay the rest on Friday."
    page = browser_as("agent")
    open_case(page, case)
    chat = page.locator("#case-chat")
    expect(chat).to_be_visible()
    expect(chat).not_to_contain_text(message)

    emulator_api.creditor_message(case["id"], message)
    sent = [c for c in emulator_api.chats(case["id"]) if c["message"] == message]
    assert len(sent) == 1
    assert not sent[0]["isSeen"]

    # Debitura's chat.created webhook, the worker's re-fetch, then the page's own poll.
    arrived = chat.locator("li", has_text=message)
    expect(arrived).to_be_visible(timeout=WAIT_MS)
    expect(arrived).to_contain_text("Creditor")
    check(page)
    check.verify()
