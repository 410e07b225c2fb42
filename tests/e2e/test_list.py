"""Signing in and working the case list on the real stack, checked against Debitura's side."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import (
    amount,
    choose,
    results,
    row_references,
    shown_in_list,
    writes_total,
)

pytestmark = [pytest.mark.e2e]


def searchable(case: dict) -> str:
    """The fields the search box looks in (README, Working cases), as the emulator holds them."""
    debtor, creditor = case["debtor"], case["creditor"]
    fields = [case["reference"], case.get("creditorReference"), debtor["name"], debtor.get("email")]
    fields += [debtor.get("phone"), creditor["companyName"]]
    return " ".join(f for f in fields if f).lower()


def test_an_agent_signs_in_through_the_form_and_lands_on_the_dashboard(browser_as, emulator_api, check):
    writes = writes_total(emulator_api)
    page = browser_as(None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    check(page)

    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("agent-demo")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Alex Agent")
    expect(header).to_contain_text("Agent")
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    check(page)
    assert writes_total(emulator_api) == writes
    check.verify()


def test_searching_the_list_finds_a_debtor_and_enter_on_a_reference_opens_the_case(
    browser_as, emulator_api, stack_cases, check
):
    cases = [c for c in emulator_api.cases() if shown_in_list(c)]
    names = Counter(c["debtor"]["name"] for c in cases)
    # A seeded case no flow touches, the same in every run (the API's order moves as flows act).
    fresh = {c["id"] for c in stack_cases.values()}
    seeded = sorted((c for c in cases if c["id"] not in fresh), key=lambda c: c["reference"])
    target = next(c for c in seeded if names[c["debtor"]["name"]] == 1)
    query = target["debtor"]["name"]
    expected = {c["reference"] for c in cases if query.lower() in searchable(c)}
    writes = writes_total(emulator_api)
    page = browser_as("agent")
    page.goto("/cases/")

    page.get_by_label("Search cases").press_sequentially(query, delay=20)

    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(results(page)).to_have_count(len(expected))
    assert set(row_references(page)) == expected
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    check(page)

    search = page.get_by_label("Search cases")
    search.fill(target["reference"])
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{target['id']}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(target["reference"])
    check(page)
    assert writes_total(emulator_api) == writes
    check.verify()


def test_filtering_by_lifecycle_and_currency_lists_what_debitura_has(browser_as, emulator_api, check):
    cases = [c for c in emulator_api.cases() if shown_in_list(c)]
    currency, _n = Counter(c["currency"] for c in cases if c["lifecycle"] == "Active").most_common(1)[0]
    expected = {c["reference"] for c in cases if c["lifecycle"] == "Active" and c["currency"] == currency}
    page = browser_as("agent")
    page.goto("/cases/")

    page.get_by_text("Filters", exact=True).click()
    choose(page, "Lifecycle", "Active")
    choose(page, "Currency", currency)

    expect(page).to_have_url(re.compile(rf"currency={currency}"))
    expect(page.locator(".result-summary")).to_contain_text(re.compile(rf"^{len(expected)} cases?\b"))
    shown = set(row_references(page))
    assert shown
    assert shown <= expected
    check(page)
    check.verify()


def test_sorting_by_amount_orders_the_rows_both_ways(browser_as, emulator_api, check):
    amounts = [amount(str(c["grossAmount"])) for c in emulator_api.cases() if shown_in_list(c)]
    page = browser_as("agent")
    page.goto("/cases/")
    header = page.get_by_role("columnheader", name=re.compile(r"^Amount"))

    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    shown = [amount(row.locator("td.num").first.inner_text()) for row in results(page).all()]
    assert shown == sorted(shown)
    assert shown[0] == min(amounts)
    check(page)

    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    shown = [amount(row.locator("td.num").first.inner_text()) for row in results(page).all()]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == max(amounts)
    check.verify()


def test_a_viewer_sees_cases_but_no_actions(browser_as, emulator_api, stack_cases, check):
    writes = writes_total(emulator_api)
    pending = stack_cases["pending-shot"]
    page = browser_as("viewer")
    page.goto("/cases/")
    expect(results(page).first).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Select "))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Reassign"))).to_have_count(0)
    check(page)

    for case in (pending, stack_cases["active-shot"]):
        page.goto(f"/cases/{case['id']}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(case["reference"])
        expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
        expect(page.get_by_role("main").locator("input[type=file], textarea")).to_have_count(0)
        check(page)

    # The same pending case offers an agent its actions: the viewer's page is not just empty.
    agent = browser_as("agent")
    agent.goto(f"/cases/{pending['id']}/")
    expect(agent.get_by_role("button", name=re.compile(r"^Accept"))).to_be_visible()
    assert writes_total(emulator_api) == writes
    check.verify()


def test_a_creditor_message_marks_its_case_in_the_list_until_an_agent_opens_it(
    browser_as, emulator_api, stack_cases, check
):
    case = stack_cases["creditor-message-list"]
    message = "The debtor called us and promised to pay the rest on Friday."
    page = browser_as("agent")
    page.goto("/cases/")
    page.get_by_label("Search cases").fill(case["reference"])
    row = results(page).filter(has=page.get_by_role("link", name=case["reference"], exact=True))
    # The search's answer is on the page before the message is written: only a live update can mark it.
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(results(page)).to_have_count(1)
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text(re.compile(r"unread", re.IGNORECASE))

    emulator_api.creditor_message(case["id"], message)
    sent = [c for c in emulator_api.chats(case["id"]) if c["message"] == message]
    assert len(sent) == 1
    assert not sent[0]["isSeen"]

    # Live: the row is marked while the page stays as it is (webhook or sync, then the list updates).
    expect(row).to_contain_text(re.compile(r"unread", re.IGNORECASE), timeout=60_000)
    check(page)
    row.get_by_role("link", name=case["reference"], exact=True).click()
    expect(page.get_by_role("main").get_by_text(message)).to_be_visible()
    check(page)

    page.goto("/cases/")
    page.get_by_label("Search cases").fill(case["reference"])
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text(re.compile(r"unread", re.IGNORECASE))  # seen now
    check.verify()
