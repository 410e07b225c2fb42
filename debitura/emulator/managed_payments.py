"""Payments recorded outside the partner's own payment rules: a managing partner's payments on its
test cases (all to the creditor, commission unpaid) and the payment the test advance records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from . import dto, operations
from .errors import bad_request
from .model import CENT, ZERO, Case, Payment, money
from .operations import Body
from .state import State


def payment_record(state: State, case: Case, amount: Decimal, when: datetime, *, by_partner: bool) -> Payment:
    """Record a payment without the split rules: to the partner (commission paid, split from the
    success fee) or, as the managing partner's test payments are, all to the creditor, unpaid."""
    payment = Payment(
        id=state.ids.uuid(),
        case_id=case.id,
        date=when,
        amount=money(amount),
        payout_creditor=ZERO,
        payout_partner=ZERO,
        platform_share=ZERO,
        recipient="CollectionPartner" if by_partner else "Creditor",
        commission_status="Paid" if by_partner else "Unpaid",
        date_created=state.clock.now(),
    )
    if by_partner:
        operations.apply_split(state, case, payment, None)
    else:
        payment.payout_creditor = payment.amount
    case.payments.append(payment)
    state.payments[payment.id] = payment
    text = f"{payment.amount} {case.currency} received by {payment.recipient}."
    operations.timeline_log(state, case, "Payment", "Payment registered", text, "System", None)
    if case.exclusive:
        case.exclusive.extend("Payment", when)
    state.fire("payment.created", case)
    return payment


def managed_payment_create(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """A managing partner's payment on its own test case (400 on a production case)."""
    body = Body(payload)
    when = body.moment("date", required=True)
    amount = body.amount("paymentAmount", minimum=CENT, required=True)
    close = body.flag("closeCase")
    body.check()
    assert when is not None
    assert amount is not None
    test_only(case, "record a payment on")
    if case.lifecycle in ("Closed", "Merged"):
        raise bad_request(
            f"Cannot record a payment on a case in lifecycle '{dto.LIFECYCLES[case.lifecycle]}'.",
            "InvalidCaseState",
        )
    if close and money(amount) < case.remainder:
        raise bad_request(
            "closeCase: the payment is less than the outstanding balance.", "PaymentBelowRemainder"
        )
    payment = payment_record(state, case, amount, when, by_partner=False)
    closed = close and case.remainder <= 0
    if closed:
        operations.close_as(state, case, "Paid", None, actor="System", who=None)
    return {
        "paymentId": payment.id,
        "caseReference": case.reference,
        "date": dto.stamp(payment.date),
        "paymentAmount": dto.number(payment.amount),
        "caseClosed": closed,
        "remainingAmount": dto.number(case.remainder),
    }


def test_only(case: Case, action: str) -> None:
    if not case.is_test:
        raise bad_request(
            f"Managing partners can only {action} test cases; the collection partner records payments "
            "on production cases through /cases/{id}/payments.",
            "ProductionCase",
        )
