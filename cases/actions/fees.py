"""Replace a case's fees (and optionally its principal); a change of rate needs the creditor's consent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cases.actions.write import WORKABLE, Kind, action_fields, case_action_write, money_or_none
from cases.models import Case
from debitura import validation
from outbox.models import OutboxAction


def case_fees_update(
    *,
    case: Case,
    actor: Any,
    interest_fees: Decimal,
    reminder_fees: Decimal,
    collection_fees: Decimal,
    gross_amount: Decimal | None = None,
    confirm_price_change: bool = False,
    keep_intentional_rate: bool = False,
    token: str | None = None,
) -> OutboxAction:
    """Replace the case's fees (and optionally its principal); a rate change needs consent."""
    amounts = {
        "interestFees": interest_fees,
        "reminderFees": reminder_fees,
        "collectionFees": collection_fees,
        "grossAmount": gross_amount,
    }
    names = {
        "interestFees": "interest_fees",
        "reminderFees": "reminder_fees",
        "collectionFees": "collection_fees",
        "grossAmount": "gross_amount",
    }
    with action_fields(names):
        validation.check_fees(amounts)
    payload = {
        "interest_fees": str(interest_fees),
        "reminder_fees": str(reminder_fees),
        "collection_fees": str(collection_fees),
        "gross_amount": money_or_none(gross_amount),
        "confirm_price_change": confirm_price_change,
        "keep_intentional_rate": keep_intentional_rate,
    }
    return case_action_write(
        case=case, actor=actor, kind=Kind.FEES, payload=payload, token=token, allowed=WORKABLE
    )
