"""The Content-Security-Policy in a real browser: every page works under it (htmx swaps included)
without a single violation, and script that reaches a page from API data does not run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.roles import ADMINISTRATOR
from cases.sync import cases_sync_incremental
from tests.browser.case_page import open_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Markup a hostile creditor (or a compromised API) could put into any text field.
HOSTILE = '<script>window.__pwned = "script"</script><img src="x" onerror="window.__pwned = \'img\'">'


class Violations:
    """Everything the browser refused under the policy, from every document the page loaded."""

    def __init__(self, page: Any) -> None:
        self.events: list[str] = []
        self.console: list[str] = []
        # The binding and the init script are installed by the browser itself (CDP), not by the page,
        # so the policy under test does not stop them.
        page.expose_binding("__reportViolation", lambda _source, text: self.events.append(text))
        page.add_init_script(
            "window.__violations = [];"
            " document.addEventListener('securitypolicyviolation', (e) => {"
            " const text = `${e.effectiveDirective} ${e.blockedURI} at ${e.documentURI}`;"
            " window.__violations.push(text); window.__reportViolation(text); });"
        )
        page.on(
            "console",
            lambda message: (
                self.console.append(message.text)
                if "Content Security Policy" in message.text or message.text.startswith("Refused to")
                else None
            ),
        )

    def all(self) -> list[str]:
        return self.events + self.console


@pytest.fixture
def violations(page: Any) -> Violations:
    return Violations(page)


def not_run(page: Any) -> bool:
    return page.evaluate("typeof window.__pwned") == "undefined"


def test_the_portal_works_under_the_policy_without_a_violation(
    page, sign_in, make_user, violations, synced, emulator
):
    admin = make_user(username="boss", role=ADMINISTRATOR)
    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(admin)

    # The sync badge is loaded by htmx on page load: a swap.
    expect(page.locator("#sync-status")).not_to_contain_text("Sync status")

    page.goto("/cases/")
    rows = page.locator(".case-table tbody tr")
    expect(rows.first).to_be_visible()
    reference = rows.first.locator("a").first.inner_text()
    page.get_by_label("Search cases").press_sequentially(reference, delay=20)
    page.wait_for_url(re.compile(rf"q={reference}"))
    expect(rows).to_have_count(1)

    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}/"))
    expect(page.locator("h1")).to_contain_text(reference)

    page.goto("/payments/")
    expect(page.locator("h1")).to_be_visible()
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/cases/case/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto("/admin/cases/syncrun/")
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()

    assert violations.all() == []


def test_script_in_a_debtor_name_from_the_api_shows_as_text_and_does_not_run(
    page, sign_in, agent, violations, emulator, sync_client
):
    with emulator.state.lock:
        case = next(c for c in emulator.state.cases.values() if c.lifecycle == "Active")
        case.debtor.name = HOSTILE
    run = cases_sync_incremental(client=sync_client)
    assert not run.error, run.error

    sign_in(agent)
    page.goto("/cases/?tab=all&q=pwned")
    expect(page.locator(".case-table tbody")).to_contain_text(HOSTILE)
    page.goto(f"/cases/{case.id}/")
    expect(page.locator("main")).to_contain_text(HOSTILE)

    assert not_run(page)
    assert violations.all() == []  # escaped: the browser never even saw a script


def test_inline_script_that_slipped_into_an_htmx_swap_is_refused(page, sign_in, agent, violations):
    # As if a template had marked API data safe: the fragment htmx swaps in carries script three ways.
    fragment = HOSTILE + '<a id="bait" href="javascript:window.__pwned = \'link\'">details</a>'
    page.route("**/sync/status", lambda route: route.fulfill(body=fragment, content_type="text/html"))
    sign_in(agent)

    bait = page.locator("#sync-status #bait")
    expect(bait).to_be_visible()  # htmx swapped the fragment in
    bait.click()
    page.wait_for_function("window.__violations.length >= 3")

    assert not_run(page)
    assert sorted(event.split(" at ")[0] for event in violations.events) == [
        "script-src-attr inline",  # the onerror handler
        "script-src-elem inline",  # the <script> htmx tried to run
        "script-src-elem inline",  # the javascript: link
    ]
    refused = " ".join(violations.console)
    for what in ("Executing inline script", "Executing inline event handler", "Running the JavaScript URL"):
        assert f"{what} violates the following Content Security Policy directive" in refused


def test_an_action_form_swapped_in_after_its_textarea_was_resized_causes_no_violation(
    page, sign_in, team_agent, active_case, queued_relays, violations
):
    sign_in(team_agent)
    page.goto(f"/cases/{active_case.id}/")
    entry = open_entry(page, "Add a note")
    note = entry.get_by_role("textbox", name="Note")
    note.fill("Called the debtor.")
    # Dragging a textarea's corner gives it an inline style (allowed: the browser's own doing);
    # htmx must not copy that attribute onto the form it swaps in, which the policy refuses.
    note.evaluate("(element) => { element.style.height = '150px'; }")
    entry.get_by_role("button", name="Add note").click()
    expect(entry.locator("#action-state-note")).to_contain_text("on its way to Debitura")

    assert violations.all() == []
