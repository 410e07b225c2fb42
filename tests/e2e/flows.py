"""Steps an agent takes in the browser (clicks and typing only) and readings of what the page shows."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from tests.browser.case_page import settled
from tests.fixtures.stack import EmulatorControl

# How long a flow waits for the relay and the page's live update on a loaded machine.
WAIT_MS = 60_000


def open_case(page: Any, case: dict[str, Any]) -> None:
    """The case page, by its link (as the list and the search would lead there)."""
    page.goto(f"/cases/{case['id']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case["reference"])


def case_header(page: Any) -> Any:
    """The case's head: reference, status, references, assignee and the money line."""
    return page.locator("#case-head")


def money(page: Any, label: str) -> Any:
    """One amount of the head's money line, by its label ("Paid", "Reminder fees"…)."""
    return (
        case_header(page)
        .locator(".money-line > div")
        .filter(has=page.locator("dt", has_text=label))
        .locator("dd")
    )


def lifecycle_badge(page: Any) -> Any:
    return page.locator("#case-status [data-lifecycle]")


def action_panel(page: Any) -> Any:
    return page.get_by_role("region", name="Act on the case")


def open_action(page: Any, title: str) -> Any:
    """Open the action panel's entry by its summary ("Accept the case", "Add a note"…); the entry."""
    entry = page.locator("details.action-item", has=page.locator(":scope > summary", has_text=title))
    if entry.get_attribute("open") is None:
        entry.locator(":scope > summary").click()
    expect(entry).to_have_attribute("open", "")
    return entry


def action_form(page: Any, title: str) -> Any:
    """An action's form by its title; the panel entry holding it is opened first when there is one."""
    if page.locator("details.action-item > summary", has_text=title).count():
        open_action(page, title)
    # Named by aria-label on the case page; by its heading elsewhere (the payment's page).
    heading = page.get_by_role("heading", name=re.compile(rf"^{re.escape(title)}\b"))
    form = page.get_by_role("form", name=title).or_(page.locator("form").filter(has=heading))
    expect(form).to_be_visible()
    return form


def expect_done(page: Any, key: str, words: str) -> None:
    """The panel says the agent's action is done where it was taken ("lifecycle" for accept,
    decline and close; else the entry's name), in the panel's words ("Note added"…)."""
    state = page.locator(f"#action-state-{key}")
    expect(state.locator(".state-done")).to_contain_text(words, timeout=WAIT_MS)
    expect(state).not_to_contain_text(re.compile(r"pending|failed", re.IGNORECASE))


def expect_logged_done(page: Any, kind: str) -> None:
    """The page's log of actions from the portal says the newest action of `kind` is done
    (corrections and deletions of payments, which are taken on the payment's page)."""
    row = page.locator(f'#case-action-log tr[data-kind="{kind}"]').first
    expect(row.locator(".badge")).to_have_text("Done", timeout=WAIT_MS)


def only_write(emulator: EmulatorControl, case_id: str, since: int, method: str, path: str) -> dict[str, Any]:
    """The one write Debitura received on the case since `since` (a mark), answered 2xx: read once
    the page says the action is done, so the log is complete and nothing is waited for here."""
    writes = emulator.writes(case_id, since=since)
    assert [(w["method"], w["path"]) for w in writes] == [(method, path)], writes
    assert 200 <= writes[0]["status"] < 300, writes[0]
    return writes[0]


def confirm_step(form: Any) -> Any:
    """The confirmation an outward action asks for before it is queued, once htmx has bound it."""
    step = form.get_by_role("region", name="Confirm")
    expect(step).to_be_visible()
    settled(form)
    return step


def results(page: Any) -> Any:
    """The case list's rows."""
    return page.locator("#case-results table tbody tr")


def row_references(page: Any) -> list[str]:
    """Debitura references of the rows shown (the first link of each row)."""
    return [row.get_by_role("link").first.inner_text().strip() for row in results(page).all()]


def amount(text: str) -> Decimal:
    """ "1,234.50 EUR" -> Decimal("1234.50")."""
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def choose(page: Any, label: str, value: str) -> None:
    """Set a filter field by its label: pick an option, or type and leave the field."""
    field = page.get_by_label(label, exact=True)
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(label=value)
    else:
        field.fill(value)
        field.press("Tab")


def shown_in_list(case: dict[str, Any]) -> bool:
    """The list hides test cases unless asked for."""
    return not case["isTestCase"]


def writes_total(emulator: EmulatorControl) -> int:
    """How many writes Debitura has received so far (any answer)."""
    return sum(1 for r in emulator.get("/_emulator/requests", limit=1_000_000) if r["method"] != "GET")


def open_case_from_list(page: Any, reference: str) -> None:
    """Search the list for a Debitura reference and open the case by its link."""
    page.goto("/cases/")
    page.get_by_label("Search cases").fill(reference)
    link = results(page).get_by_role("link", name=reference, exact=True)
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
