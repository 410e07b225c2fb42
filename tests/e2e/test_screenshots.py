"""The pages the README shows, at 1440x900: the list and a pending, an active and a closed case.

Always checked as pages; saved as PNGs when E2E_SCREENSHOTS names a folder (`make screenshots`
writes docs/screenshots/). The active and closed cases are seeded ones with a history (chat,
payments), chosen by a fixed rule, so the same seed gives the same pictures.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from partnerportal.templatetags.portal import money
from tests.e2e.flows import shown_in_list
from tests.fixtures.stack import EmulatorControl

pytestmark = [pytest.mark.e2e]


def save(page: Any, name: str) -> None:
    # The header's sync badge arrives after the page (htmx, on load): not its placeholder link.
    expect(page.locator("#sync-status .badge").first).to_be_visible()
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def lived_in(emulator: EmulatorControl, lifecycle: str) -> tuple[dict, list[dict], list[dict]]:
    """The seeded case of a lifecycle with the most chat and payments (then by reference)."""
    candidates = [c for c in emulator.cases() if c["lifecycle"] == lifecycle and shown_in_list(c)]
    scored = []
    for case in candidates:
        chats, payments = emulator.chats(case["id"]), emulator.payments(case["id"])
        scored.append((-(len(chats) + len(payments)), case["reference"], case, chats, payments))
    _score, _ref, case, chats, payments = min(scored, key=lambda item: item[:2])
    return case, chats, payments


def test_the_case_list_at_1440(browser_as, check):
    page = browser_as("agent")
    page.goto("/cases/")
    expect(page.locator("#case-results table tbody tr").first).to_be_visible()
    save(page, "case-list")
    check(page)
    check.verify()


def test_a_pending_case_at_1440(browser_as, stack_cases, check):
    case = stack_cases["pending-shot"]
    page = browser_as("agent")
    page.goto(f"/cases/{case['id']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case["reference"])
    expect(page.get_by_role("button", name=re.compile(r"^Accept"))).to_be_visible()
    save(page, "case-pending")
    check(page)
    check.verify()


@pytest.mark.parametrize("lifecycle", ["Active", "Closed"])
def test_a_case_with_a_history_at_1440(browser_as, emulator_api, check, lifecycle):
    case, chats, payments = lived_in(emulator_api, lifecycle)
    page = browser_as("agent")
    page.goto(f"/cases/{case['id']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case["reference"])
    # The children (chat, payments) may land after the page: it updates itself.
    main = page.get_by_role("main")
    if chats:
        newest = max(chats, key=lambda c: c["dateCreated"])["message"]
        expect(main.get_by_text(newest[:60]).first).to_be_visible(timeout=60_000)
    for payment in payments:
        shown = money(Decimal(str(payment["grossAmount"])), payment["currency"])
        expect(main.get_by_text(shown).first).to_be_attached(timeout=60_000)
    save(page, f"case-{lifecycle.lower()}")
    check(page)
    check.verify()
