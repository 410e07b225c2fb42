"""The History tab in Chromium: reached from the case page, sound at both widths, under the CSP."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from cases.reassign import cases_reassign
from tests.fixtures.factories import CaseFactory, UserFactory
from tests.fixtures.pages import page_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_opens_the_history_tab_from_the_case_page_and_sees_the_reassignment(
    page: Any, sign_in: Any, supervisor: Any
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg")
    case: Any = CaseFactory(debtor_name="Zenith Retail DAC")
    cases_reassign(case_ids=[str(case.pk)], assignee=anna, actor=supervisor)
    sign_in(supervisor)

    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("navigation", name="Pages of this case").get_by_role("link", name="History").click()

    page.wait_for_url(f"**/cases/{case.pk}/history/")
    rows = page.locator(".history-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Opened the case")
    expect(rows.nth(1)).to_contain_text("Assignee: nobody → Anna Berg")
    expect(page.get_by_role("link", name="History")).to_have_attribute("aria-current", "page")
    assert page_problems(page) == []
    assert refused == []
