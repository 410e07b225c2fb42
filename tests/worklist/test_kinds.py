"""Each kind of task appears with the data that drives it and leaves when the condition ends.

The data comes from the emulator through the sync (page upsert, children store) and from agents'
actions through the outbox; the tasks follow through the signals, after each commit (the writes
run inside django_capture_on_commit_callbacks(execute=True), as a commit would run them, and the
refresh the sync queues runs eagerly).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from cases.actions import case_accept, case_chat_send, case_note_add
from cases.models import Case, ChatMessage
from cases.sla import business_deadline
from cases.sync import case_children_refresh, cases_sync_incremental
from outbox.models import OutboxAction
from payments.actions import payment_correct, payment_record
from payments.models import Payment
from tests.fixtures.emulator import pending_case
from tests.fixtures.outbox import reload
from worklist.models import Task
from worklist.services import tasks_show_due

# eager_tasks: the sync's changes are refreshed by a Celery task (worklist.refresh), run inline here.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def tasks(case: Any, kind: str) -> list[Task]:
    return list(Task.objects.filter(case_id=case.pk, kind=kind))


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """`with committed():` runs what the block queued on commit as the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_new_assignment_is_due_one_business_day_later_and_leaves_once_accepted(
    emulator, synced, team_agent, committed, relay
):
    remote = pending_case(emulator)
    with committed():
        cases_sync_incremental(client=synced)
    case = Case.objects.get(id=remote.id)

    (task,) = tasks(case, "verify_assignment")
    assert task.due_at == business_deadline(case.date_created, timedelta(days=1))
    assert task.visible
    assert "one business day" in task.reason
    assert task.url.endswith("#action-accept")

    with committed():
        case_accept(case=case, actor=team_agent, welcome_message="We have taken over your case.")
    assert tasks(case, "verify_assignment") == []  # at once: the accept is on its way

    with committed():
        relay()
    assert Case.objects.get(id=case.id).lifecycle == "Active"
    assert tasks(case, "verify_assignment") == []


def test_a_refused_chat_message_is_a_failed_action_task_until_it_is_sent_again(
    emulator, synced, team_agent, active_case, committed, relay
):
    with committed():
        action = case_chat_send(case=active_case, actor=team_agent, message="We reached the debtor.")
    member = team_agent.team_member
    with emulator.state.lock:  # the sender left the agency's team at Debitura in the meantime
        emulator.state.users[str(member.id)].active = False

    with committed():
        relay()

    assert reload(action).state == OutboxAction.State.FAILED
    (task,) = tasks(active_case, "failed_action")
    assert action.last_error
    assert task.reason == f"Chat message failed: {action.last_error}"[: len(task.reason)]
    assert task.url.endswith(f"?resend={action.pk}#action-chat")

    with emulator.state.lock:
        emulator.state.users[str(member.id)].active = True
    with committed():
        case_chat_send(case=active_case, actor=team_agent, message="We reached the debtor.")
    assert tasks(active_case, "failed_action") == []


def test_a_refused_accept_on_a_case_since_closed_leaves_nothing_to_fix(
    emulator, synced, team_agent, committed, relay
):
    remote = pending_case(emulator)
    with committed():
        cases_sync_incremental(client=synced)
    case = Case.objects.get(id=remote.id)
    with committed():
        action = case_accept(case=case, actor=team_agent, welcome_message="We have taken over your case.")
    emulator.withdraw(remote.id)  # Debitura closes it before the relay gets there

    with committed():
        relay()

    assert reload(action).state == OutboxAction.State.FAILED
    # The read-back after the refusal found the case closed: nothing to verify, nothing to resend.
    assert Case.objects.get(id=case.id).lifecycle == "Closed"
    assert tasks(case, "verify_assignment") == []
    assert tasks(case, "failed_action") == []


def test_a_creditor_message_asks_for_a_reply_within_48_business_hours_until_the_agent_replies(
    emulator, synced, team_agent, active_case, committed
):
    chat = emulator.creditor_message(str(active_case.id), "Any news on the debtor?")
    with committed():
        case_children_refresh(case=active_case, client=synced)
    arrived = ChatMessage.objects.get(id=chat.id).date_created

    (task,) = tasks(active_case, "reply_creditor")
    assert task.due_at == business_deadline(arrived, timedelta(hours=48))
    assert "Any news on the debtor?" in task.reason
    assert task.url.endswith("#action-chat")

    with committed():
        case_chat_send(case=active_case, actor=team_agent, message="We called the debtor today.")
    assert tasks(active_case, "reply_creditor") == []


def test_a_reply_already_in_the_chat_leaves_no_task(emulator, synced, active_case, committed):
    emulator.creditor_message(str(active_case.id), "Any news?")
    with committed():
        case_children_refresh(case=active_case, client=synced)
    ChatMessage.objects.create(
        id="00000000-0000-4000-8000-000000000001",
        case=active_case,
        role=ChatMessage.Role.PARTNER,
        date_created=timezone.now() + timedelta(minutes=1),
        message="Yes: a payment plan.",
    )
    from worklist.services import tasks_refresh

    tasks_refresh(case_ids=[active_case.id])
    assert tasks(active_case, "reply_creditor") == []


def test_an_active_case_needs_a_progress_note_by_day_30_shown_a_week_before(
    emulator, synced, team_agent, active_case, committed
):
    with committed():
        case_children_refresh(case=active_case, client=synced)
    case = Case.objects.get(id=active_case.id)
    notes = case.timeline.filter(type="Note").order_by("-date")
    since = notes[0].date if notes else case.date_collection_started or case.date_created

    (task,) = tasks(case, "progress_update")
    assert task.due_at == since + timedelta(days=30)
    assert task.visible_from == task.due_at - timedelta(days=7)
    assert task.url.endswith("#action-note")

    with committed():
        action = case_note_add(case=case, actor=team_agent, description="Called the debtor: promised Friday.")
    (task,) = tasks(case, "progress_update")
    assert task.due_at == action.created_at + timedelta(days=30)
    assert not task.visible  # the next one is due in a month: out of the inbox until a week before

    assert tasks_show_due(now=task.visible_from - timedelta(seconds=1)) == 0
    assert tasks_show_due(now=task.visible_from) == 1
    assert Task.objects.get(pk=task.pk).visible


def test_a_payment_to_the_creditor_with_unpaid_commission_is_to_invoice_until_marked_paid(
    synced, team_agent, active_case, committed, relay
):
    with committed():
        action = payment_record(
            case=active_case,
            actor=team_agent,
            date=date.today() - timedelta(days=2),
            amount=Decimal("120.00"),
            recipient="Creditor",
            commission_status="Unpaid",
        )
    payment = Payment.objects.get(pk=action.payload["payment_id"])
    (task,) = tasks(active_case, "invoice_commission")
    assert "120.00" in task.reason
    assert "unpaid" in task.reason
    assert task.due_at.date() == payment.date + timedelta(days=14)

    with committed():
        relay()
    assert reload(action).state == OutboxAction.State.DONE
    assert len(tasks(active_case, "invoice_commission")) == 1  # confirmed, still owed

    payment.refresh_from_db()
    with committed():
        payment_correct(
            payment=payment,
            actor=team_agent,
            date=payment.date,
            amount=payment.amount,
            recipient="Creditor",
            commission_status="Paid",
        )
    assert tasks(active_case, "invoice_commission") == []


def test_an_exclusive_period_ending_within_30_days_names_what_extends_it(
    emulator, synced, team_agent, active_case, committed, relay
):
    end = timezone.now().replace(microsecond=0) + timedelta(days=20)
    with emulator.state.lock:
        emulator.state.cases[str(active_case.id)].exclusive.end = end
    with committed():
        case_children_refresh(case=active_case, client=synced)

    (task,) = tasks(active_case, "exclusivity_ending")
    assert task.due_at == end
    assert task.visible
    assert "promise to pay" in task.reason
    assert "payment agreement" in task.reason
    assert task.url.endswith("#case-exclusivity")

    # A payment extends it by 12 months at Debitura; the read-back brings the new end.
    with committed():
        payment_record(
            case=active_case,
            actor=team_agent,
            date=date.today(),
            amount=Decimal("10.00"),
            recipient="CollectionPartner",
        )
        relay()
    with committed():
        case_children_refresh(case=active_case, client=synced)
    (task,) = tasks(active_case, "exclusivity_ending")
    assert not task.visible
    assert task.due_at > timezone.now() + timedelta(days=300)


def test_a_case_gone_from_debitura_or_a_test_case_has_no_tasks(emulator, synced, committed):
    remote = pending_case(emulator)
    with committed():
        cases_sync_incremental(client=synced)
    assert tasks(Case(id=remote.id), "verify_assignment")

    with committed():
        Case.objects.filter(id=remote.id).update(is_test_case=True)
        from cases.changes import AGENT, cases_changed_on_commit

        cases_changed_on_commit(case_ids=[remote.id], origin=AGENT)
    assert tasks(Case(id=remote.id), "verify_assignment") == []
