"""tasks_refresh and the rebuild: idempotent, a fixed number of queries per batch, every case once;
and the signal that triggers them: one per transaction level, none for a rolled back write."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.changes import AGENT, SYNC, cases_changed, cases_changed_on_commit
from cases.models import ChatMessage, LifecycleChoices
from outbox.models import OutboxAction
from payments.models import Payment
from promises.models import PromiseStatus
from tests.fixtures.factories import (
    CaseFactory,
    ChatMessageFactory,
    OutboxActionFactory,
    PaymentFactory,
    PromiseFactory,
    TimelineItemFactory,
)
from worklist.models import Task
from worklist.services import tasks_rebuild, tasks_refresh

pytestmark = pytest.mark.django_db
A, B = uuid.uuid4(), uuid.uuid4()


def reads(queries: Any) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def varied_cases(count: int) -> list[Any]:
    """Cases that give every kind something to derive."""
    now = timezone.now()
    cases = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            case = CaseFactory(lifecycle=LifecycleChoices.PENDING_VERIFICATION)
        else:
            case = CaseFactory(exclusive_period_end=now + timedelta(days=10 + n % 40), children_synced_at=now)
        if kind == 1:
            ChatMessageFactory(
                case=case, role=ChatMessage.Role.CREDITOR, date_created=now - timedelta(hours=n)
            )
            TimelineItemFactory(case=case, type="Note", date=now - timedelta(days=n % 40))
            PromiseFactory(case=case, first_due=timezone.localdate() + timedelta(days=n % 20))
        if kind == 2:
            PaymentFactory(
                case=case,
                recipient=Payment.Recipient.CREDITOR,
                commission_status=Payment.CommissionStatus.UNPAID,
            )
        if kind == 3:
            OutboxActionFactory(case=case, state=OutboxAction.State.FAILED, last_error="Refused.")
            PromiseFactory(
                case=case, first_due=timezone.localdate() - timedelta(days=9), status=PromiseStatus.BROKEN
            )
        cases.append(case)
    return cases


def test_a_refresh_costs_the_same_queries_for_10_and_200_cases():
    small, big = varied_cases(10), varied_cases(200)
    with CaptureQueriesContext(connection) as for_small:
        tasks_refresh(case_ids=[c.pk for c in small])
    with CaptureQueriesContext(connection) as for_big:
        result = tasks_refresh(case_ids=[c.pk for c in big])

    # Reads do not grow with the batch; writes are bulk statements, which SQLite splits at its
    # limit of parameters a statement (so a few more for 200 cases), PostgreSQL does not.
    assert len(reads(for_big)) == len(reads(for_small)) <= 22
    assert len(for_big) - len(reads(for_big)) <= 8
    kinds = set(Task.objects.values_list("kind", flat=True))
    assert kinds == {
        "verify_assignment",
        "reply_creditor",
        "progress_update",
        "invoice_commission",
        "exclusivity_ending",
        "failed_action",
        "promise_due",
        "promise_broken",
    }
    assert result.created == Task.objects.filter(case__in=big).count()


def test_a_second_refresh_changes_nothing_and_writes_nothing():
    cases = varied_cases(12)
    tasks_refresh(case_ids=[c.pk for c in cases])
    before = dict(Task.objects.values_list("key", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        again = tasks_refresh(case_ids=[c.pk for c in cases])

    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert dict(Task.objects.values_list("key", "updated_at")) == before
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def test_the_rebuild_walks_every_case_in_batches(monkeypatch):
    cases = varied_cases(25)
    Task.objects.all().delete()

    result = tasks_rebuild(batch=10)

    assert result.batches == 3
    assert set(Task.objects.values_list("case_id", flat=True)) == {c.pk for c in cases}


def test_the_rebuild_command_reports_what_it_did():
    varied_cases(4)
    out = StringIO()
    call_command("worklist_rebuild", "--batch", "2", stdout=out)
    assert "tasks created" in out.getvalue()
    assert "(2 batches)" in out.getvalue()


def test_writes_in_one_transaction_send_one_signal_and_a_rolled_back_one_none(
    django_capture_on_commit_callbacks,
):
    received: list[list[str]] = []

    def listen(sender: Any, *, case_ids: list[str], **kwargs: Any) -> None:
        received.append(case_ids)

    cases_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            cases_changed_on_commit(case_ids=[B], origin=AGENT)
            cases_changed_on_commit(case_ids=[A, B], origin=AGENT)
            try:
                with transaction.atomic():
                    cases_changed_on_commit(case_ids=[uuid.uuid4()], origin=AGENT)
                    raise RuntimeError
            except RuntimeError:
                pass
    finally:
        cases_changed.disconnect(listen)

    assert received == [sorted([str(A), str(B)])]


def test_what_the_sync_changed_is_refreshed_by_a_queued_task_an_agents_change_at_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    from worklist import receivers

    queued: list[list[str]] = []
    monkeypatch.setattr(receivers.refresh, "delay", lambda case_ids: queued.append(case_ids))
    pending = CaseFactory(lifecycle=LifecycleChoices.PENDING_VERIFICATION)

    with django_capture_on_commit_callbacks(execute=True):
        cases_changed_on_commit(case_ids=[pending.pk], origin=SYNC)
    assert queued == [[str(pending.pk)]]
    assert not Task.objects.exists()  # not yet: the worker will

    with django_capture_on_commit_callbacks(execute=True):
        cases_changed_on_commit(case_ids=[pending.pk], origin=AGENT)
    assert Task.objects.get().kind == "verify_assignment"


def test_a_row_that_went_through_costs_the_relay_no_refresh_a_failed_one_does():
    from outbox.signals import action_settled

    case = CaseFactory(lifecycle=LifecycleChoices.PENDING_VERIFICATION)
    with CaptureQueriesContext(connection) as done:
        action_settled.send(sender=OutboxAction, action_id="x", case_id=str(case.pk), state="done")
    assert len(done) == 0

    action_settled.send(sender=OutboxAction, action_id="x", case_id=str(case.pk), state="failed")
    assert Task.objects.get(case=case).kind == "verify_assignment"
