"""Driving the case page in the browser: its action entries are <details> elements, one open at a time."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def open_entry(page: Any, title: str) -> Any:
    """Open the action panel's entry by its summary ("Add a note", "Close the case"…); its form."""
    details = page.locator("details.action-item", has=page.locator(":scope > summary", has_text=title))
    if details.get_attribute("open") is None:
        details.locator(":scope > summary").click()
    expect(details).to_have_attribute("open", "")
    return details
