"""Driving the case page in the browser: its action entries are <details> elements, one open at a time;
outward actions come back as a confirmation step swapped in by htmx."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

# What the page's poll brings (every 3 s while something is on its way) arrives within this, even
# when the server shares two cores with other work and a poll's render takes seconds.
LIVE_MS = 30_000

# htmx marks what it swaps in and binds it (hx-post…) only when the swap settles: a click on a
# new confirmation step before that submits the plain form and reloads the whole page.
_SWAPPING = re.compile(r"\bhtmx-(added|settling|swapping)\b")


def open_entry(page: Any, title: str) -> Any:
    """Open the action panel's entry by its summary ("Add a note", "Close the case"…); its form."""
    details = page.locator("details.action-item", has=page.locator(":scope > summary", has_text=title))
    if details.get_attribute("open") is None:
        details.locator(":scope > summary").click()
    expect(details).to_have_attribute("open", "")
    return details


def settled(element: Any) -> None:
    """Wait until htmx has finished swapping `element` in (the form it redrew, the panel)."""
    expect(element).not_to_have_class(_SWAPPING)


def confirm(form: Any, button: str) -> Any:
    """Press the confirmation step's `button` ("Confirm: close the case") once htmx has bound it; the step."""
    step = form.get_by_role("region", name="Confirm")
    expect(step).to_be_visible()
    settled(form)
    step.get_by_role("button", name=button).click()
    return step


def stay_on(page: Any) -> None:
    """Mark the document shown now, so `assert_not_reloaded` can tell it is still the same one."""
    page.evaluate("() => { window.notReloaded = true; }")


def assert_not_reloaded(page: Any) -> None:
    """Everything since `stay_on` came through htmx: the page was never loaded again."""
    assert page.evaluate("() => window.notReloaded === true"), f"{page.url} was loaded again"
