"""A progress note to several cases at once, from the case list to Debitura's timelines."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import WAIT_MS

pytestmark = [pytest.mark.e2e]

NOTE = "Monthly update: letters sent and the debtor called; we follow up next week."


def test_an_agent_posts_one_note_to_three_active_cases_and_sees_each_land(
    browser_as, emulator_api, stack_cases, check
):
    cases = [stack_cases[f"bulk-note-{n}"] for n in (1, 2, 3)]
    jobs_before = len(emulator_api.requests(method="POST", path="/ingestion-jobs"))
    page = browser_as("agent")
    page.goto("/cases/?tab=mine&sort=-created")
    for case in cases:
        page.get_by_label(f"Select {case['reference']}").check()
    check(page)
    page.get_by_role("button", name="Post a progress note…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Post a progress note to 3 cases")
    expect(page.get_by_role("heading", name="3 Active cases will get the note")).to_be_visible()
    check(page)
    page.get_by_label("Progress note").fill(NOTE)
    page.get_by_role("button", name="Review…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Post this note to 3 cases?")
    check(page)
    page.get_by_role("button", name="Post to 3 cases").click()

    expect(page).to_have_url(re.compile(r"/cases/"))
    page.get_by_role("link", name="follow it here").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress note to 3 cases")
    expect(page.locator("#bulk-progress .bulk-status")).to_contain_text(
        "3 of 3 cases got the note", timeout=WAIT_MS
    )
    for case in cases:
        expect(page.locator(f'tr[data-case="{case["reference"]}"] .badge')).to_have_text("Done")
    check(page)

    sent = emulator_api.requests(method="POST", path="/ingestion-jobs")[jobs_before:]
    assert len(sent) == 1
    assert sorted(row["caseId"] for row in sent[0]["body"]["rows"]) == sorted(c["id"] for c in cases)
    for case in cases:
        assert [i for i in emulator_api.timeline(case["id"]) if i["description"] == NOTE]

    page.goto(f"/cases/{cases[0]['id']}/")
    expect(page.locator("#case-bulk-notes .badge")).to_have_text("On the timeline")
    check(page)
    check.verify()
