"""Walking the inbox ("My work") on the real stack: a creditor writes, the task appears in the
agent's inbox, its link opens the form that does it, the agent replies, and the task has left
the inbox; Debitura received the reply once.

The creditor's message reaches the portal as Debitura's chat.created webhook, the worker's
re-fetch of the case and the work list's refresh (a Celery task): the inbox is a page without live
regions, so the flow reloads it until the task is there, as a person would.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import WAIT_MS, action_form, confirm_step, expect_done, only_write

pytestmark = [pytest.mark.e2e]


def reload_until_visible(page: Any, locator: Any, *, timeout_ms: int = WAIT_MS) -> None:
    """Reload the page until `locator` shows (each look waits up to 2 s on the loaded page)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            expect(locator).to_be_visible(timeout=2_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def my_work(page: Any, *, kind: str) -> None:
    """My work, by the navigation's link, showing one kind of task: the first page holds the 50
    nearest deadlines, and earlier e2e flows leave overdue tasks that come before a new one."""
    page.get_by_role("navigation").get_by_role("link", name="My work").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    page.get_by_label("Kind").select_option(kind)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/work/?*kind={kind}*")


def test_a_reply_to_the_creditor_leaves_the_inbox_once_sent(browser_as, emulator_api, stack_cases, check):
    case = stack_cases["inbox"]
    question = "Has the debtor answered your letter yet?"
    reply = "Yes: the debtor called today and asked for two weeks to pay."
    emulator_api.creditor_message(case["id"], question)
    mark = emulator_api.mark()

    page = browser_as("agent")
    page.goto("/")
    my_work(page, kind="reply_creditor")
    task = page.locator(
        "tr.task-reply_creditor", has=page.get_by_role("link", name=case["reference"], exact=True)
    )
    reload_until_visible(page, task)
    expect(task).to_contain_text("Reply to the creditor")
    expect(task).to_contain_text(question)  # why, in the creditor's words
    expect(task.locator(".col-deadline .when")).to_contain_text("due in")
    check(page)

    task.get_by_role("button", name="Reply").click()  # a link styled as a button
    page.wait_for_url(f"**/cases/{case['id']}/#action-chat")
    form = action_form(page, "Message the creditor")
    form.get_by_label("Message").fill(reply)
    form.get_by_role("button", name="Send…").click()
    confirm_step(form).get_by_role("button", name="Confirm: message the creditor").click()
    expect_done(page, "chat", "Message sent")
    check(page)

    my_work(page, kind="reply_creditor")
    expect(page.locator("a", has_text="Later deadlines")).to_have_count(0)  # the whole kind is on this page
    expect(
        page.locator("tr.task", has=page.get_by_role("link", name=case["reference"], exact=True))
    ).to_have_count(0)
    check(page)

    sent = only_write(emulator_api, case["id"], mark, "POST", f"/cases/{case['id']}/chats")
    assert sent["body"]["message"] == reply
    assert [c["message"] for c in emulator_api.chats(case["id"])].count(reply) == 1
    check.verify()
