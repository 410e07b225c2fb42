"""Decline a Pending Verification case: relayed as a close with Debitura's matching code, or Other."""

from __future__ import annotations

from typing import Any

from django.db.models import TextChoices

from cases.actions.write import ActionInvalid, Kind, L, action_fields, case_action_write
from cases.models import Case
from debitura import validation
from debitura.enums import CloseCode
from outbox.models import OutboxAction


class DeclineReason(TextChoices):
    """Why an agency declines a case (Debitura's portal categories)."""

    BELOW_MINIMUM = "below_minimum", "Below the minimum claim"
    DEBTOR_UNTRACEABLE = "debtor_untraceable", "Debtor untraceable"
    OUTSIDE_JURISDICTION = "outside_jurisdiction", "Outside our jurisdiction"
    TIME_BARRED = "time_barred", "Time-barred"
    REGULATORY_RESTRICTION = "regulatory_restriction", "Regulatory restriction"
    DEBTOR_INSOLVENT = "debtor_insolvent", "Debtor insolvent"
    INFORMATION_MISSING = "information_missing", "Essential information missing"
    CONFLICT_OF_INTEREST = "conflict_of_interest", "Conflict of interest"
    DISPUTED_DEBT = "disputed_debt", "Disputed debt"


# The three reasons with a close code of their own; the others close as Other with the reason.
DECLINE_CLOSE_CODES = {
    DeclineReason.DEBTOR_UNTRACEABLE: CloseCode.DEBTOR_UNTRACEABLE,
    DeclineReason.DEBTOR_INSOLVENT: CloseCode.DEBTOR_INSOLVENT_BANKRUPT,
    DeclineReason.TIME_BARRED: CloseCode.STATUTE_OF_LIMITATIONS_EXPIRED,
}


def case_decline(
    *, case: Case, actor: Any, reason: DeclineReason | str, text: str = "", token: str | None = None
) -> OutboxAction:
    """Decline a Pending Verification case: relayed as a close with the matching code, or Other."""
    if reason not in DeclineReason.values:
        raise ActionInvalid({"reason": "Choose one of the listed reasons."})
    reason = DeclineReason(reason)
    code = DECLINE_CLOSE_CODES.get(reason, CloseCode.OTHER)
    text = text.strip()
    if code is CloseCode.OTHER:
        comment = f"Declined: {reason.label}: {text}" if text else f"Declined: {reason.label}"
    else:
        comment = f"Declined: {text}" if text else "Declined"
    with action_fields({"comment": "text"}):
        validation.check_close(close_code=code, comment=comment)
    payload = {"reason": reason.value, "text": text, "close_code": code.value, "comment": comment}
    return case_action_write(
        case=case,
        actor=actor,
        kind=Kind.DECLINE,
        payload=payload,
        token=token,
        allowed=frozenset({L.PENDING_VERIFICATION}),
    )
