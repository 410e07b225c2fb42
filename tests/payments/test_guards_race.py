"""The payment guards under concurrency: two sessions recording on one case at the same instant.

Each session posts the record form from a thread of its own (its own database connection). The
guards are made to meet: a session that has read the guards' figures waits until the other one
has read them too, or is waiting for the case's lock. Where the guards ran outside the lock,
both sessions read before either wrote, and both payments were queued without a question.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import payments.actions
import payments.views
from outbox.models import OutboxAction

pytestmark = pytest.mark.django_db(transaction=True)


class Meeting:
    """Two sessions; each guard waits for the other session's guard or its wait for the lock."""

    def __init__(self) -> None:
        self.guarded = [threading.Event(), threading.Event()]
        self.locking = [threading.Event(), threading.Event()]
        self.done = [threading.Event(), threading.Event()]
        self.number: dict[int, int] = {}

    def me(self) -> int:
        return self.number[threading.get_ident()]

    def wrap_guard(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def guard(**kwargs: Any) -> Any:
            result = original(**kwargs)
            me = self.me()
            other = 1 - me
            self.guarded[me].set()
            deadline = time.monotonic() + 120  # a loaded machine may start the other thread late
            while not (
                self.guarded[other].is_set() or self.locking[other].is_set() or self.done[other].is_set()
            ):
                assert time.monotonic() < deadline, "the other session never reached its guard or the lock"
                time.sleep(0.002)
            return result

        return guard

    def lock_watch(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # The statement that takes the case's lock: BEGIN IMMEDIATE on SQLite, FOR UPDATE elsewhere.
        if sql.startswith("BEGIN") or "FOR UPDATE" in sql:
            self.locking[self.me()].set()
        return execute(sql, params, many, context)


@pytest.fixture
def meeting(monkeypatch: pytest.MonkeyPatch) -> Meeting:
    meet = Meeting()
    for module in (payments.actions, payments.views):  # wherever the guards are called from
        if hasattr(module, "payment_record_warnings"):
            monkeypatch.setattr(
                module, "payment_record_warnings", meet.wrap_guard(module.payment_record_warnings)
            )
    return meet


def _at_once(meeting: Meeting, agent: Any, case: Any, forms: list[dict[str, str]]) -> list[str]:
    """Post both forms at the same moment from two sessions; what each page said."""
    pages: list[str] = ["", ""]
    errors: list[BaseException] = []
    # Signed in beforehand: a sign-in writes its session, which would wait for the other
    # session's lock and never reach the meeting.
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(agent)

    def session(number: int) -> None:
        meeting.number[threading.get_ident()] = number
        client = clients[number]
        try:
            with connection.execute_wrapper(meeting.lock_watch):
                response = client.post(
                    reverse("payments:record", args=[case.pk]), forms[number], headers={"HX-Request": "true"}
                )
            pages[number] = response.content.decode()
        except BaseException as exc:
            errors.append(exc)
        finally:
            meeting.done[number].set()
            connection.close()

    threads = [threading.Thread(target=session, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return pages


def _form(amount: Decimal, token: str) -> dict[str, str]:
    return {
        "token": token,
        "date": timezone.localdate().isoformat(),
        "amount": str(amount),
        "recipient": "CollectionPartner",
        "commission_status": "",
    }


def test_two_sessions_posting_the_same_amount_at_once_queue_one_and_ask_the_other(
    meeting, team_agent, active_case
):
    pages = _at_once(
        meeting, team_agent, active_case, [_form(Decimal(75), "tok-a"), _form(Decimal(75), "tok-b")]
    )

    assert OutboxAction.objects.count() == 1, pages
    assert sum("Is this a duplicate?" in page for page in pages) == 1, pages


def test_two_payments_that_together_exceed_the_remainder_are_not_both_queued_unasked(
    meeting, team_agent, active_case
):
    share = (active_case.remainder * Decimal("0.6")).quantize(Decimal(1))
    forms = [_form(share, "tok-a"), _form(share + 1, "tok-b")]

    pages = _at_once(meeting, team_agent, active_case, forms)

    assert OutboxAction.objects.count() == 1, pages
    assert sum("above the case&#x27;s remainder" in page for page in pages) == 1, pages
