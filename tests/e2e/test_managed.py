"""A case submitted in the browser, on the real stack: it reaches Debitura once although the
first send's answer never came, and shows in "Cases submitted" with what the sync brings."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.fixtures.stack import wait_until

pytestmark = [pytest.mark.e2e]

SUBMIT = "/managed-cases"
# Longer than the worker's read timeout (DEBITURA_TIMEOUT_SECONDS, 20 s): the case is created at
# Debitura, and the answer is lost.
LOST_ANSWER_SECONDS = 25


def test_a_case_submitted_in_the_browser_reaches_debitura_once_though_the_first_answer_was_lost(
    browser_as, emulator_api, stack, check
):
    reference = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    emulator_api.post(
        "/_emulator/faults",
        {"timeoutRate": 1.0, "timeoutSeconds": LOST_ANSWER_SECONDS, "methods": ["POST"], "paths": [SUBMIT]},
    )
    page = browser_as("agent")
    page.goto("/submitted/")
    page.get_by_role("button", name="Submit case", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit case")
    page.get_by_label("Creditor company").fill("Kobenhavn Kaffe ApS")
    page.get_by_label("Creditor country code").fill("DK")
    page.get_by_label("Creditor's reference").fill(reference)
    page.get_by_label("Amount to recover").fill("1250.50")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Invoice date").fill("2025-06-01")
    page.get_by_label("Debtor name").fill("Berliner Handels GmbH")
    page.get_by_label("Contact person").fill("Jana Weber")
    page.get_by_label("Debtor country code").fill("DE")
    check(page)
    page.get_by_role("button", name="Submit case to Debitura").click()

    expect(page).to_have_url(re.compile(r"/submitted/[0-9a-f-]{36}/$"))
    expect(page.locator("#managed-status")).to_contain_text("Sending to Debitura")
    # The first send reached Debitura; its answer will not come back.
    wait_until(
        lambda: emulator_api.requests(method="POST", path=SUBMIT, ok=False),
        what="the first POST /managed-cases",
        processes=tuple(stack.processes.values()),
    )
    emulator_api.post("/_emulator/faults", {})
    heading = page.get_by_role("heading", level=1)
    expect(heading).not_to_contain_text("Submission", timeout=120_000)
    check(page)

    sent = emulator_api.requests(method="POST", path=SUBMIT, ok=False)
    assert len(sent) == 2
    assert sent[0]["idempotencyKey"] == sent[1]["idempotencyKey"]
    at_debitura = [
        c for c in emulator_api.get(SUBMIT, PageSize=100)["cases"] if c.get("creditorReference") == reference
    ]
    assert len(at_debitura) == 1
    case = at_debitura[0]
    expect(heading).to_contain_text(case["reference"])

    # The sync brings the case's children (its timeline) to the page.
    portal = stack.portal("agent")
    detail = page.url.removeprefix(stack.web_url)
    wait_until(
        lambda: "Case submitted" in portal.get(detail).text,
        what="the submitted case's timeline from the sync",
        timeout=180,
        processes=tuple(stack.processes.values()),
    )
    portal.close()
    page.goto("/submitted/")
    page.get_by_label("Search submitted cases").fill(reference)
    page.get_by_label("Search submitted cases").press("Enter")
    row = page.locator("#managed-results tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(case["reference"])
    expect(row).to_contain_text("Pending Verification")
    check(page)
    row.get_by_role("link", name=case["reference"]).click()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Case submitted")
    check(page)
    check.verify()
