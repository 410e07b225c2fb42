"""A payment recorded, corrected or deleted by an agent: checked, written with its outbox row and
the local Payment (pending, or being deleted) in one transaction, relayed after commit.

The write itself is the cases' one (cases.actions.case_action_write: the case's lock, the
lifecycle check, the idempotency token); this module adds the payment's values, the guards asked
under the lock (above the remainder, a likely duplicate) and Debitura's rules for closing a case
as Paid or PartiallyPaid (registered with cases from PaymentsConfig.ready()).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Required, TypedDict, Unpack

from django.utils import timezone

from cases.actions import (
    NOT_MERGED,
    WORKABLE,
    ActionInvalid,
    Kind,
    NeedsConfirmation,
    action_fields,
    action_key,
    case_action_write,
    money_or_none,
)
from cases.models import Case
from debitura import validation
from debitura.enums import CloseCode, CommissionPaymentStatus, PaymentRecipient
from debitura.types import PaymentInput
from outbox.models import OutboxAction
from partnerportal.money import money_text
from payments.handlers import payment_values, payment_values_apply
from payments.models import Payment
from payments.services import payment_record_warnings, payment_remainder

_PAYMENT_NAMES = {
    "date": "date",
    "paymentAmount": "amount",
    "paymentRecipient": "recipient",
    "commissionPaymentStatus": "commission_status",
    "payoutCreditor": "payout_creditor",
    "payoutCollectionPartner": "payout_partner",
}


class PaymentFields(TypedDict, total=False):
    """A payment's values as an agent enters them; payouts are both given or both left out."""

    date: Required[date]
    amount: Required[Decimal]
    recipient: Required[PaymentRecipient | str]
    commission_status: CommissionPaymentStatus | str | None
    payout_creditor: Decimal | None
    payout_partner: Decimal | None


def _payment_values(fields: PaymentFields) -> dict[str, Any]:
    """Check a payment as Debitura will and return it as payload values."""
    recipient, status = fields["recipient"], fields.get("commission_status")
    errors = {}
    if recipient not in PaymentRecipient.__members__.values():
        errors["recipient"] = "must be Creditor, CollectionPartner or Platform."
    if status and status not in CommissionPaymentStatus.__members__.values():
        errors["commission_status"] = "must be Paid or Unpaid."
    if errors:
        raise ActionInvalid(errors)
    payment = PaymentInput(
        date=fields["date"],
        amount=fields["amount"],
        recipient=PaymentRecipient(recipient),
        commission_status=CommissionPaymentStatus(status) if status else None,
        payout_creditor=fields.get("payout_creditor"),
        payout_partner=fields.get("payout_partner"),
    )
    with action_fields(_PAYMENT_NAMES):
        validation.check_payment(payment, now=timezone.now())
    return payment_values(payment)


def payment_record(
    *,
    case: Case,
    actor: Any,
    close_case: bool = False,
    confirmed: bool = False,
    token: str | None = None,
    **fields: Unpack[PaymentFields],
) -> OutboxAction:
    """Record a payment; it shows as pending until Debitura has confirmed it.

    Unless `confirmed`, an amount above the remainder or a likely duplicate raises
    NeedsConfirmation instead (checked under the case's lock, against every earlier payment).
    """
    values = _payment_values(fields)
    key = action_key(token)

    def guards(locked: Case) -> None:
        if confirmed:
            return
        remainder = payment_remainder(case=locked)
        warnings = payment_record_warnings(
            case=locked, amount=fields["amount"], when=fields["date"], token=key, remainder=remainder
        )
        if warnings:
            raise NeedsConfirmation(warnings, remainder=remainder)

    def optimistic(action: OutboxAction) -> None:
        # The row is the case's own (case_action_write): `case` is the one it was written on.
        payment = Payment(case=case, currency=case.currency, state=Payment.State.PENDING, action=action)
        payment_values_apply(payment=payment, values=values)
        payment.save()
        action.payload["payment_id"] = payment.pk
        action.save(update_fields=["payload"])

    payload = {**values, "close_case": close_case}
    return case_action_write(
        case=case,
        actor=actor,
        kind=Kind.PAYMENT_CREATE,
        payload=payload,
        token=key,
        allowed=WORKABLE,
        optimistic=optimistic,
        check=guards,
    )


def _payment_change(
    *,
    payment: Payment,
    actor: Any,
    kind: OutboxAction.Kind,
    payload: dict[str, Any],
    state: Payment.State,
    token: str | None,
    values: dict[str, Any] | None = None,
) -> OutboxAction:
    """Queue an edit or delete of a payment Debitura knows (or will know once its creation is relayed)."""
    if payment.state in (Payment.State.FAILED, Payment.State.DELETING):
        raise ActionInvalid({"__all__": f"This payment is {payment.get_state_display().lower()}."})
    if payment.frozen_reason:
        raise ActionInvalid({"__all__": f"This payment is frozen at Debitura: {payment.frozen_reason}"})

    def optimistic(action: OutboxAction) -> None:
        if values is not None:
            payment_values_apply(payment=payment, values=values)
        payment.state = state
        payment.action = action
        payment.save()

    payload = {
        **payload,
        "payment_id": payment.pk,
        "remote_id": str(payment.remote_id) if payment.remote_id else None,
    }
    return case_action_write(
        case=payment.case,
        actor=actor,
        kind=kind,
        payload=payload,
        token=token,
        allowed=NOT_MERGED,
        optimistic=optimistic,
    )


def payment_correct(
    *,
    payment: Payment,
    actor: Any,
    reopen_case_if_needed: bool = False,
    token: str | None = None,
    **fields: Unpack[PaymentFields],
) -> OutboxAction:
    """Correct a payment; the new values show as pending, the old ones return if Debitura refuses."""
    values = _payment_values(fields)
    previous = {
        "date": payment.date.isoformat(),
        "amount": str(payment.amount),
        "recipient": payment.recipient or values["recipient"],
        "commission_status": payment.commission_status,
        "payout_creditor": money_or_none(payment.payout_creditor),
        "payout_partner": money_or_none(payment.payout_partner),
    }
    return _payment_change(
        payment=payment,
        actor=actor,
        kind=Kind.PAYMENT_UPDATE,
        payload={**values, "reopen_case_if_needed": reopen_case_if_needed, "previous": previous},
        state=Payment.State.PENDING,
        token=token,
        values=values,
    )


def payment_delete(
    *, payment: Payment, actor: Any, reopen_case_if_needed: bool = False, token: str | None = None
) -> OutboxAction:
    """Delete a payment; it shows as being deleted until Debitura has removed it."""
    return _payment_change(
        payment=payment,
        actor=actor,
        kind=Kind.PAYMENT_DELETE,
        payload={"amount": str(payment.amount), "reopen_case_if_needed": reopen_case_if_needed},
        state=Payment.State.DELETING,
        token=token,
    )


# --- Closing a case ----------------------------------------------------------------------------


def case_close_payments_check(*, case: Case, close_code: CloseCode) -> None:
    """Debitura's payment rules for Paid and PartiallyPaid, checked on the local copy before sending.

    What Debitura has counts through the case's remainder (payments may not be synced here yet).
    Payments recorded, corrected or deleted here and still on their way count as Debitura will
    have them (payment_remainder): the relay sends a case's rows in order, before the close.
    """
    if close_code not in (CloseCode.PAID, CloseCode.PARTIALLY_PAID):
        return
    owed = case.gross_amount + case.interest_fees + case.reminder_fees + case.collection_fees
    paid = owed - payment_remainder(case=case)
    if close_code is CloseCode.PAID and (paid <= 0 or paid < owed):
        raise ActionInvalid(
            {
                "close_code": "Paid needs payments covering the outstanding "
                f"{money_text(owed, case.currency)}; payments so far: {money_text(paid, case.currency)}."
            }
        )
    if close_code is CloseCode.PARTIALLY_PAID and (paid <= 0 or paid >= owed):
        raise ActionInvalid(
            {
                "close_code": "Partially paid needs at least one payment, below the outstanding "
                f"{money_text(owed, case.currency)}; payments so far: {money_text(paid, case.currency)}."
            }
        )
