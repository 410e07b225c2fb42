"""The payments' relay handlers: a payment recorded once through a lost answer, a refusal that
restores the local copy, a delete that would reopen a paid case, and what a payment reads back."""

from __future__ import annotations

import pytest

from debitura.emulator import operations
from outbox.models import OutboxAction
from payments.actions import payment_delete
from payments.models import Payment
from tests.fixtures.outbox import LATER, payment_add, posts, reload, requests_made

pytestmark = pytest.mark.django_db

State = OutboxAction.State


def test_a_payment_whose_answer_was_dropped_is_resent_with_its_key_and_recorded_once(
    active_case, team_agent, relay, emulator
):
    before = len(emulator.state.cases[str(active_case.pk)].payments)
    action = payment_add(active_case, team_agent, "77.70")
    emulator.set_faults(drop_rate=1.0, paths=["/cases/{id}/payments"], methods=["POST"])

    relay()
    assert reload(action).state == State.PENDING
    assert action.uncertain
    emulator.clear_faults()
    relay(now=LATER)

    assert reload(action).state == State.DONE
    sent = posts(emulator, "/cases/{id}/payments")
    assert [r.idempotency_key for r in sent] == [action.idempotency_key] * 2
    remote = emulator.state.cases[str(active_case.pk)].payments
    assert len(remote) == before + 1
    assert Payment.objects.get(pk=action.payload["payment_id"]).remote_id is not None


def test_a_refused_payment_fails_in_debituras_words_and_the_local_copy_is_restored(
    active_case, team_agent, relay, emulator
):
    action = payment_add(active_case, team_agent)
    with emulator.state.lock:  # the creditor withdrew the case in the meantime
        operations.creditor_withdraw(emulator.state, emulator.state.cases[str(active_case.pk)])

    relay()

    assert reload(action).state == State.FAILED
    assert "Cannot register a payment on a case in lifecycle 'Closed'" in action.last_error
    assert action.response["businessErrors"]
    assert Payment.objects.get(pk=action.payload["payment_id"]).state == Payment.State.FAILED
    active_case.refresh_from_db()
    assert active_case.lifecycle == "Closed"


def test_deleting_a_payment_that_would_reopen_a_paid_case_fails_and_keeps_the_payment(
    active_case, team_agent, relay, emulator
):
    remote = emulator.state.cases[str(active_case.pk)]
    settle = payment_add(active_case, team_agent, str(remote.remainder), close_case=True)
    relay()
    assert remote.lifecycle == "Closed"
    payment = Payment.objects.get(pk=reload(settle).payload["payment_id"])

    action = payment_delete(payment=payment, actor=team_agent)
    relay()

    assert reload(action).state == State.FAILED
    assert "reopenCaseIfNeeded" in action.last_error
    assert action.response["businessErrors"][0]["type"] == "ReopenRequired"
    payment.refresh_from_db()
    assert payment.state == Payment.State.CONFIRMED


def test_a_payment_reads_back_the_case_for_its_remainder_and_nothing_else(
    fetched_case, team_agent, relay, emulator
):
    action = payment_add(fetched_case, team_agent, "25.00")
    emulator.request_log.clear()

    relay()

    assert requests_made(emulator) == ["POST /cases/{id}/payments", "GET /cases/{id}"]
    fetched_case.refresh_from_db()
    assert fetched_case.remainder == emulator.state.cases[str(fetched_case.pk)].remainder
    payment = Payment.objects.get(pk=reload(action).payload["payment_id"])
    assert (payment.state, payment.remote_id is not None) == (Payment.State.CONFIRMED, True)
