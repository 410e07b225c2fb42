"""Agents' actions: checked, written as an outbox row with the optimistic change, relayed once each."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cases.actions import (
    ActionInvalid,
    DeclineReason,
    case_accept,
    case_chat_send,
    case_close,
    case_custom_terms_reason,
    case_decline,
    case_effective_lifecycle,
    case_fees_update,
    case_note_add,
)
from cases.models import ChatMessage, TimelineItem
from debitura.enums import CloseCode
from outbox.models import OutboxAction
from payments.actions import case_close_payments_check, payment_correct, payment_delete, payment_record
from payments.models import Payment
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db

PAID_LAST_WEEK = date.today() - timedelta(days=7)


def emulator_case(emulator: Any, case: Any) -> Any:
    return emulator.state.cases[str(case.pk)]


def writes(emulator: Any, method: str, template: str) -> list[Any]:
    """Requests that reached the emulator's handler and took effect (2xx, even if the answer was lost)."""
    return [r for r in emulator.requests(method=method, template=template) if 200 <= r.status < 300]


def record_and_relay(case: Any, actor: Any, relay: Any, amount: str = "25.00") -> Payment:
    action = payment_record(
        case=case, actor=actor, date=PAID_LAST_WEEK, amount=Decimal(amount), recipient="CollectionPartner"
    )
    relay()
    assert reload(action).state == OutboxAction.State.DONE, action.last_error
    return Payment.objects.get(pk=action.payload["payment_id"])


# --- One end-to-end test per kind: row written, relayed, effect once at Debitura, case re-fetched ---


def test_accept_starts_the_case_once_and_the_local_copy_becomes_active(
    pending_case, team_agent, relay, emulator
):
    action = case_accept(
        case=pending_case,
        actor=team_agent,
        welcome_message="Welcome, we take it from here.",
        partner_reference="AG-1001",
    )
    assert action.kind == OutboxAction.Kind.ACCEPT
    assert case_effective_lifecycle(case=pending_case) == "Active"

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    assert action.response["collection_partner_reference"] == "AG-1001"
    assert len(writes(emulator, "POST", "/cases/{id}/start")) == 1
    assert emulator_case(emulator, pending_case).lifecycle == "Active"
    pending_case.refresh_from_db()
    assert pending_case.lifecycle == "Active"


@pytest.mark.parametrize(
    ("reason", "code", "comment"),
    [
        (DeclineReason.DEBTOR_UNTRACEABLE, "DebtorUntraceable", "Declined: no address since 2023"),
        (DeclineReason.TIME_BARRED, "StatuteOfLimitationsExpired", "Declined: no address since 2023"),
        (DeclineReason.DEBTOR_INSOLVENT, "DebtorInsolventBankrupt", "Declined: no address since 2023"),
        (
            DeclineReason.CONFLICT_OF_INTEREST,
            "Other",
            "Declined: Conflict of interest: no address since 2023",
        ),
    ],
)
def test_decline_closes_the_case_with_the_matching_code_or_other_with_the_reason(
    pending_case, team_agent, relay, emulator, reason, code, comment
):
    action = case_decline(case=pending_case, actor=team_agent, reason=reason, text="no address since 2023")

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    remote = emulator_case(emulator, pending_case)
    assert (remote.lifecycle, remote.close_code, remote.close_comment) == ("Closed", code, comment)
    assert len(writes(emulator, "POST", "/cases/{id}/close")) == 1
    pending_case.refresh_from_db()
    assert (pending_case.lifecycle, pending_case.close_code) == ("Closed", code)


def test_close_closes_the_case_once(active_case, team_agent, relay, emulator):
    action = case_close(case=active_case, actor=team_agent, close_code=CloseCode.UNECONOMICAL_TO_PURSUE)

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    assert emulator_case(emulator, active_case).close_code == "UneconomicalToPursue"
    assert len(writes(emulator, "POST", "/cases/{id}/close")) == 1
    active_case.refresh_from_db()
    assert active_case.lifecycle == "Closed"


def test_close_as_paid_counts_a_pending_correction_as_debitura_will_have_it(active_case, team_agent, relay):
    settled = record_and_relay(active_case, team_agent, relay, amount=str(active_case.remainder))
    active_case.refresh_from_db()
    case_close_payments_check(case=active_case, close_code=CloseCode.PAID)  # covered: no error

    payment_correct(
        payment=settled,
        actor=team_agent,
        date=settled.date,
        amount=settled.amount - 10,
        recipient=settled.recipient,
    )

    with pytest.raises(ActionInvalid) as caught:
        case_close(case=active_case, actor=team_agent, close_code=CloseCode.PAID)
    assert "Paid needs payments covering the outstanding" in caught.value.message_dict["close_code"][0]


def test_note_appears_once_on_the_timeline_here_and_at_debitura(active_case, team_agent, relay, emulator):
    action = case_note_add(
        case=active_case, actor=team_agent, description="Called the debtor; promised Friday."
    )

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    remote = [t for t in emulator_case(emulator, active_case).timeline if t.type == "Note"]
    assert [t.description for t in remote].count("Called the debtor; promised Friday.") == 1
    assert (
        TimelineItem.objects.filter(
            case=active_case, description="Called the debtor; promised Friday."
        ).count()
        == 1
    )


def test_chat_message_is_sent_once_with_the_rows_idempotency_key(active_case, team_agent, relay, emulator):
    action = case_chat_send(
        case=active_case, actor=team_agent, message="Any news from the debtor?", token="form-1"
    )

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    sent = writes(emulator, "POST", "/cases/{id}/chats")
    assert [r.idempotency_key for r in sent] == ["form-1"]
    assert [m.message for m in emulator_case(emulator, active_case).chats].count(
        "Any news from the debtor?"
    ) == 1
    assert ChatMessage.objects.filter(case=active_case, message="Any news from the debtor?").count() == 1


def test_fees_update_replaces_the_fees_here_and_at_debitura(active_case, team_agent, relay, emulator):
    action = case_fees_update(
        case=active_case,
        actor=team_agent,
        interest_fees=Decimal("12.50"),
        reminder_fees=Decimal("7.00"),
        collection_fees=Decimal("40.00"),
    )

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    remote = emulator_case(emulator, active_case)
    assert (remote.interest_fees, remote.reminder_fees, remote.collection_fees) == (
        Decimal("12.50"),
        Decimal("7.00"),
        Decimal("40.00"),
    )
    active_case.refresh_from_db()
    assert active_case.interest_fees == Decimal("12.50")


def test_payment_record_shows_pending_then_confirmed_with_debituras_id(
    active_case, team_agent, relay, emulator
):
    before = len(emulator_case(emulator, active_case).payments)
    action = payment_record(
        case=active_case,
        actor=team_agent,
        date=PAID_LAST_WEEK,
        amount=Decimal("125.40"),
        recipient="CollectionPartner",
    )
    payment = Payment.objects.get(pk=action.payload["payment_id"])
    assert (payment.state, payment.amount, payment.remote_id) == (
        Payment.State.PENDING,
        Decimal("125.40"),
        None,
    )

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    payment.refresh_from_db()
    assert payment.state == Payment.State.CONFIRMED
    assert str(payment.remote_id) == action.response["payment_id"]
    remote = emulator_case(emulator, active_case).payments
    assert len(remote) == before + 1
    assert [p.amount for p in remote].count(Decimal("125.40")) == 1
    assert Payment.objects.filter(remote_id=payment.remote_id).count() == 1


def test_payment_correct_changes_the_amount_at_debitura(active_case, team_agent, relay, emulator):
    payment = record_and_relay(active_case, team_agent, relay)

    action = payment_correct(
        payment=payment,
        actor=team_agent,
        date=PAID_LAST_WEEK,
        amount=Decimal("30.00"),
        recipient="CollectionPartner",
    )
    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.PENDING, Decimal("30.00"))
    relay()

    assert reload(action).state == OutboxAction.State.DONE
    assert emulator.state.payments[str(payment.remote_id)].amount == Decimal("30.00")
    assert len(writes(emulator, "PUT", "/cases/{id}/payments/{paymentId}")) == 1
    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.CONFIRMED, Decimal("30.00"))


def test_payment_delete_removes_it_at_debitura_and_here(active_case, team_agent, relay, emulator):
    payment = record_and_relay(active_case, team_agent, relay)
    remote_id = str(payment.remote_id)

    action = payment_delete(payment=payment, actor=team_agent)
    payment.refresh_from_db()
    assert payment.state == Payment.State.DELETING
    relay()

    assert reload(action).state == OutboxAction.State.DONE
    assert remote_id not in emulator.state.payments
    assert not Payment.objects.filter(remote_id=remote_id).exists()


# --- The row, the optimistic change, the relay queued on commit -----------------------------------


def test_the_relay_is_queued_only_once_the_transaction_commits(
    active_case, team_agent, queued_relays, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        action = case_note_add(case=active_case, actor=team_agent, description="Left a voicemail.")
        assert queued_relays.ids == []
    assert len(callbacks) == 2  # the relay, and cases_changed (cases.changes) for the work list
    assert queued_relays.ids == [str(action.id)]
    assert (action.state, action.actor, action.payload["description"]) == (
        "pending",
        team_agent,
        "Left a voicemail.",
    )


def test_a_double_submit_returns_the_first_row(
    active_case, team_agent, queued_relays, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = case_chat_send(case=active_case, actor=team_agent, message="Hello", token="tok-123")
        second = case_chat_send(case=active_case, actor=team_agent, message="Hello", token="tok-123")

    assert first.pk == second.pk
    assert OutboxAction.objects.count() == 1
    assert queued_relays.ids == [str(first.pk)]


def test_a_double_submitted_payment_leaves_one_pending_payment(active_case, team_agent):
    for _ in range(2):
        payment_record(
            case=active_case,
            actor=team_agent,
            date=PAID_LAST_WEEK,
            amount=Decimal("10"),
            recipient="CollectionPartner",
            token="pay-form-7",
        )
    assert Payment.objects.filter(case=active_case, state=Payment.State.PENDING).count() == 1


def test_a_token_used_for_another_action_is_refused(active_case, team_agent):
    case_note_add(case=active_case, actor=team_agent, description="One", token="tok-9")
    with pytest.raises(ActionInvalid) as caught:
        case_chat_send(case=active_case, actor=team_agent, message="Two", token="tok-9")
    assert "token" in caught.value.message_dict


def test_the_same_case_gets_strictly_increasing_creation_times(active_case, team_agent):
    rows = [case_note_add(case=active_case, actor=team_agent, description=f"n{i}") for i in range(5)]
    stamps = [row.created_at for row in rows]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5


# --- Checks before anything is written ----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c, a: case_note_add(case=c, actor=a, description="  "), "description"),
        (lambda c, a: case_chat_send(case=c, actor=a, message=""), "message"),
        (lambda c, a: case_close(case=c, actor=a, close_code="Other"), "comment"),
        (lambda c, a: case_close(case=c, actor=a, close_code="NoSuchCode"), "close_code"),
        (
            lambda c, a: case_fees_update(
                case=c,
                actor=a,
                interest_fees=Decimal("-1"),
                reminder_fees=Decimal(0),
                collection_fees=Decimal(0),
            ),
            "interest_fees",
        ),
        (
            lambda c, a: payment_record(
                case=c, actor=a, date=PAID_LAST_WEEK, amount=Decimal("0"), recipient="CollectionPartner"
            ),
            "amount",
        ),
        (
            lambda c, a: payment_record(
                case=c, actor=a, date=PAID_LAST_WEEK, amount=Decimal("5"), recipient="Creditor"
            ),
            "commission_status",
        ),
        (
            lambda c, a: payment_record(
                case=c, actor=a, date=PAID_LAST_WEEK, amount=Decimal("5"), recipient="Bank"
            ),
            "recipient",
        ),
        (lambda c, a: case_note_add(case=c, actor=a, description="x", token="bad token"), "token"),
    ],
)
def test_invalid_input_is_refused_per_field_and_writes_nothing(active_case, team_agent, call, field):
    with pytest.raises(ActionInvalid) as caught:
        call(active_case, team_agent)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert not OutboxAction.objects.exists()
    assert not Payment.objects.exists()


def test_accept_is_refused_on_a_case_that_is_already_active(active_case, team_agent):
    with pytest.raises(ActionInvalid) as caught:
        case_accept(case=active_case, actor=team_agent, welcome_message="Welcome, we take it from here.")
    assert "Active" in caught.value.message_dict["__all__"][0]


def test_accept_refuses_an_agency_reference_claimed_by_an_accept_on_another_case(
    cases_by_lifecycle, team_agent
):
    first, second = cases_by_lifecycle("PendingVerification")[:2]
    welcome = "Welcome, we take it from here."
    case_accept(case=first, actor=team_agent, welcome_message=welcome, partner_reference="AG-2026-0001")

    # The service checks under the lock, not only the form: a stale form cannot claim it twice.
    with pytest.raises(ActionInvalid) as caught:
        case_accept(case=second, actor=team_agent, welcome_message=welcome, partner_reference="AG-2026-0001")
    assert "partner_reference" in caught.value.message_dict
    assert OutboxAction.objects.filter(kind=OutboxAction.Kind.ACCEPT).count() == 1


def test_a_pending_accept_lets_the_agent_add_notes_but_not_accept_again(pending_case, team_agent):
    case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome, we take it from here.")

    case_note_add(case=pending_case, actor=team_agent, description="First call planned.")
    with pytest.raises(ActionInvalid):
        case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome again, twice.")
    with pytest.raises(ActionInvalid):
        case_decline(case=pending_case, actor=team_agent, reason=DeclineReason.BELOW_MINIMUM)


def test_an_agent_outside_debituras_team_cannot_chat(active_case, make_user):
    stranger = make_user(username="stranger", email="")
    with pytest.raises(ActionInvalid):
        case_chat_send(case=active_case, actor=stranger, message="Hi")


def test_an_accept_done_before_its_refresh_landed_still_counts(pending_case, team_agent, relay, emulator):
    case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome, we take it from here.")
    emulator.set_faults(error_rate=1.0, methods=["GET"], paths=["/cases/{id}"])  # the refresh fails
    relay()
    pending_case.refresh_from_db()
    assert pending_case.lifecycle == "PendingVerification"

    assert case_effective_lifecycle(case=pending_case) == "Active"
    case_note_add(case=pending_case, actor=team_agent, description="First call planned.")


# --- Debitura's rules checked here before anything is sent ------------------------------------


def _outstanding(case: Any) -> Decimal:
    return case.gross_amount + case.interest_fees + case.reminder_fees + case.collection_fees


def _paid_at_debitura(case: Any, amount: Decimal) -> None:
    """The case as Debitura reports it after `amount` was paid (payments themselves not synced yet)."""
    case.remainder = _outstanding(case) - amount
    case.save(update_fields=["remainder"])


@pytest.mark.parametrize("code", [CloseCode.PAID, CloseCode.PARTIALLY_PAID])
def test_closing_as_paid_or_partially_paid_without_payments_is_refused_before_sending(
    active_case, team_agent, code
):
    _paid_at_debitura(active_case, Decimal(0))
    with pytest.raises(ActionInvalid) as caught:
        case_close(case=active_case, actor=team_agent, close_code=code)
    assert "payment" in caught.value.message_dict["close_code"][0]
    assert not OutboxAction.objects.exists()


def test_closing_as_paid_needs_payments_covering_the_outstanding_amount(active_case, team_agent):
    _paid_at_debitura(active_case, _outstanding(active_case) - Decimal("0.01"))
    with pytest.raises(ActionInvalid) as caught:
        case_close(case=active_case, actor=team_agent, close_code=CloseCode.PAID)
    assert "covering the outstanding" in caught.value.message_dict["close_code"][0]

    _paid_at_debitura(active_case, _outstanding(active_case))
    action = case_close(case=active_case, actor=team_agent, close_code=CloseCode.PAID)
    assert action.payload["close_code"] == "Paid"


def test_closing_as_partially_paid_is_refused_once_payments_cover_everything(active_case, team_agent):
    _paid_at_debitura(active_case, _outstanding(active_case))
    with pytest.raises(ActionInvalid) as caught:
        case_close(case=active_case, actor=team_agent, close_code=CloseCode.PARTIALLY_PAID)
    assert "below the outstanding" in caught.value.message_dict["close_code"][0]


def test_a_payment_still_on_its_way_counts_for_paid_and_the_relay_sends_it_first(
    active_case, team_agent, relay, emulator
):
    remote = emulator_case(emulator, active_case)
    settle = payment_record(
        case=active_case,
        actor=team_agent,
        date=PAID_LAST_WEEK,
        amount=remote.remainder,
        recipient="CollectionPartner",
    )
    close = case_close(case=active_case, actor=team_agent, close_code=CloseCode.PAID)

    relay()

    assert reload(settle).state == OutboxAction.State.DONE, settle.last_error
    assert reload(close).state == OutboxAction.State.DONE, close.last_error
    assert remote.close_code == "Paid"


def test_a_payment_being_deleted_no_longer_counts_for_partially_paid(active_case, team_agent):
    _paid_at_debitura(active_case, Decimal(10))
    Payment.objects.create(
        case=active_case,
        date=PAID_LAST_WEEK,
        amount=Decimal(10),
        currency=active_case.currency,
        state=Payment.State.DELETING,
    )
    with pytest.raises(ActionInvalid):
        case_close(case=active_case, actor=team_agent, close_code=CloseCode.PARTIALLY_PAID)


@pytest.mark.parametrize(
    ("claim_type", "dispute", "why"),
    [
        ("Rental Arrears", "No, the claim is not disputed", "claim type is Rental Arrears"),
        ("Unpaid Invoice", "Yes, the claim is disputed", "disputed"),
    ],
)
def test_a_case_that_needs_custom_terms_cannot_be_accepted_here(
    pending_case, team_agent, claim_type, dispute, why
):
    pending_case.claim_type, pending_case.dispute_status = claim_type, dispute
    with pytest.raises(ActionInvalid) as caught:
        case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome, we take it from here.")
    assert why in caught.value.message_dict["__all__"][0]
    assert not OutboxAction.objects.exists()


def test_a_standard_undisputed_claim_needs_no_custom_terms(pending_case):
    pending_case.claim_type, pending_case.dispute_status = "Loan Repayment", "Don't Know"
    assert case_custom_terms_reason(case=pending_case) is None
