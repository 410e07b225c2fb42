"""One real stack for the e2e package: emulator, portal, worker + beat; Chromium signed in per role.

Each flow works on cases of its own (`stack_cases`), made at the emulator before the worker's
first sync, so the flows do not depend on each other's order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.pages import PageChecks
from tests.fixtures.stack import PASSWORDS, EmulatorControl, Stack, running_stack

# Fresh cases made at the emulator for the flows, by name: Pending Verification ones for the
# flows that accept or decline, Active ones (accepted at Debitura as set-up) for the others.
PENDING = ("accept", "decline", "pending-shot")
ACTIVE = (
    "note",
    "chat",
    "fees",
    "payments",
    "upload",
    "close",
    "creditor-message",
    "creditor-message-list",
    "active-shot",
    "bulk-note-1",
    "bulk-note-2",
    "bulk-note-3",
    "inbox",
)

WELCOME = "Hello, we are the collection agency that now works this claim for your creditor."


def _prepare(control: EmulatorControl, made: dict[str, dict[str, Any]]) -> None:
    fresh = control.new_cases(len(PENDING) + len(ACTIVE))
    team = control.team()
    # Accepted for the demo agent, as an agency's own cases are: "My cases" and the list's
    # Assigned column show them (the README's screenshot of the list too).
    member = next((m for m in team if m["email"] == "agent@demo.example"), team[0])
    for name, case in zip(PENDING + ACTIVE, fresh, strict=True):
        made[name] = case
    for name in ACTIVE:
        case = control.case(made[name]["id"])
        # Keep the creditor's fees as they are (a missing fee is 0 at Debitura).
        control.post(
            f"/cases/{case['id']}/start",
            {
                "welcomeMessage": WELCOME,
                "userEmail": member["email"],
                "assignedUserEmail": member["email"],
                "interestFees": case["interestFees"],
                "reminderFees": case["reminderFees"],
                "collectionFees": case["collectionFees"],
            },
        )


@pytest.fixture(scope="package")
def stack_cases() -> dict[str, dict[str, Any]]:
    """name -> {"id", "reference", ...} of the fresh cases each flow works on."""
    return {}


@pytest.fixture(scope="package")
def stack(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, stack_cases: dict[str, dict[str, Any]]
) -> Iterator[Stack]:
    """The running stack; without Chromium (`browser` skips) nothing is started."""
    base = Path(os.environ["E2E_DIR"]) if os.environ.get("E2E_DIR") else tmp_path_factory.mktemp("e2e")
    with running_stack(base, prepare=lambda control: _prepare(control, stack_cases)) as running:
        client = running.portal("admin")
        for case in stack_cases.values():
            running.wait_for_portal_case(client, case["id"])
        client.close()
        yield running


@pytest.fixture
def emulator_api(stack: Stack) -> EmulatorControl:
    return stack.emulator


@pytest.fixture
def check() -> PageChecks:
    """check(page) after each step; check.verify() at the end of the flow."""
    return PageChecks()


@pytest.fixture(scope="package")
def _storage_states() -> dict[str, Any]:
    return {}


@pytest.fixture
def browser_as(
    browser: Any, stack: Stack, _storage_states: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Any]]:
    """browser_as("agent") -> a page in a fresh context, signed in through the form (once per role).

    browser_as(None) -> a page in a fresh context, not signed in.
    """
    contexts: list[Any] = []

    def open_as(username: str | None) -> Any:
        context = browser.new_context(
            base_url=stack.web_url,
            viewport={"width": 1440, "height": 900},
            storage_state=_storage_states.get(username) if username else None,
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        if username and username not in _storage_states:
            sign_in(page, username)
            _storage_states[username] = context.storage_state()
        request.node.stash.setdefault(_PAGES, []).append(page)
        return page

    yield open_as
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str) -> None:
    """Through the sign-in form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


_PAGES = pytest.StashKey[list[Any]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure: the stack's logs and a screenshot of each open page, in the report."""
    report = yield
    if report.failed and call.when in ("call", "setup"):
        running = getattr(item, "funcargs", {}).get("stack")
        if running is not None:
            report.sections.append(("stack logs", running.logs()))
            pages: list[Any] = item.stash.get(_PAGES, [])
            for n, page in enumerate(pages):
                path = running.log_dir / f"{item.name}-{n}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                    report.sections.append(("screenshot", f"{page.url} -> {path}"))
                except Exception as exc:  # a closed page must not hide the failure
                    report.sections.append(("screenshot", f"not taken: {exc!r}"))
    return report
