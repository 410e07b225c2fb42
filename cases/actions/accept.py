"""Accept (start) a Pending Verification case, and what stops it: custom terms, a taken agency reference."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Q

from cases.actions.write import (
    OPEN_STATES,
    ActionInvalid,
    Kind,
    L,
    action_fields,
    actor_team_email,
    case_action_write,
    money_or_none,
)
from cases.models import Case
from cases.references import case_reference_give
from debitura import validation
from outbox.models import OutboxAction
from partnerportal.models import AgencySettings

# Debitura starts only these claim types through the API; the rest need terms negotiated there.
STANDARD_CLAIM_TYPES = frozenset({"Unpaid Invoice", "Loan Repayment"})
DEBITURA_PORTAL_URL = "https://partner.debitura.com"


def case_custom_terms_reason(*, case: Case) -> str | None:
    """Why Debitura will refuse to start this case through the API (custom terms), or None."""
    reasons = []
    if case.claim_type not in STANDARD_CLAIM_TYPES:
        reasons.append(
            f"the claim type is {case.claim_type or 'not given'} (only Unpaid Invoice and Loan Repayment)"
        )
    if case.is_disputed:
        reasons.append("the claim is disputed")
    if not reasons:
        return None
    return f"Needs custom terms negotiated at Debitura: {' and '.join(reasons)}."


def case_accept(
    *,
    case: Case,
    actor: Any,
    welcome_message: str,
    welcome_template: str = "",
    partner_reference: str = "",
    assigned_user_email: str | None = None,
    interest_fees: Decimal | None = None,
    reminder_fees: Decimal | None = None,
    collection_fees: Decimal | None = None,
    token: str | None = None,
) -> OutboxAction:
    """Accept (start) a Pending Verification case with a welcome message to the creditor.

    A fee left as None keeps the case's current one: the relay sends the fee the case has then,
    because Debitura sets a fee left out of the request to 0. `welcome_template` is the message as
    the agent wrote it, with the reference's placeholder; kept locally for "edit and resend".
    """
    custom_terms = case_custom_terms_reason(case=case)
    if custom_terms:
        raise ActionInvalid({"__all__": f"{custom_terms} Accept it in Debitura's portal."})
    user_email = actor_team_email(actor)
    fees = {"interestFees": interest_fees, "reminderFees": reminder_fees, "collectionFees": collection_fees}
    names = {
        "welcomeMessage": "welcome_message",
        "userEmail": "actor",
        "assignedUserEmail": "assigned_user_email",
        "collectionPartnerReference": "partner_reference",
        "interestFees": "interest_fees",
        "reminderFees": "reminder_fees",
        "collectionFees": "collection_fees",
    }
    with action_fields(names):
        validation.check_start(
            welcome_message=welcome_message,
            user_email=user_email,
            assigned_user_email=assigned_user_email,
            partner_reference=partner_reference or None,
            fees=fees,
        )
    payload = {
        "welcome_message": welcome_message,
        "welcome_template": welcome_template,
        "user_email": user_email,
        "partner_reference": partner_reference,
        "assigned_user_email": assigned_user_email,
        "interest_fees": money_or_none(interest_fees),
        "reminder_fees": money_or_none(reminder_fees),
        "collection_fees": money_or_none(collection_fees),
    }
    return case_action_write(
        case=case,
        actor=actor,
        kind=Kind.ACCEPT,
        payload=payload,
        token=token,
        allowed=frozenset({L.PENDING_VERIFICATION}),
        check=_reference_unique(partner_reference) if partner_reference else None,
        optimistic=_reference_given(partner_reference),
    )


def _reference_given(reference: str) -> Callable[[OutboxAction], None]:
    def give(action: OutboxAction) -> None:
        # Shown and searchable at once; the relay takes it back if Debitura refuses the accept.
        case_reference_give(
            case_id=action.case_id, reference=reference, actor=action.actor, reason="Given with the accept"
        )

    return give


def partner_reference_taken(reference: str, *, case: Case) -> bool:
    """Another case has this agency reference, or an accept on its way or done will give it one."""
    return (
        Case.objects.filter(partner_reference=reference).exclude(pk=case.pk).exists()
        or OutboxAction.objects.filter(
            Q(state__in=OPEN_STATES) | Q(state=OutboxAction.State.DONE),
            kind=OutboxAction.Kind.ACCEPT,
            payload__partner_reference=reference,
        )
        .exclude(case=case)
        .exists()
    )


def _reference_unique(reference: str) -> Callable[[Case], None]:
    def check(case: Case) -> None:
        # The case lock alone does not stop two accepts on two cases claiming one reference at
        # the same moment: the agency settings row serialises every claim (SQLite's write lock
        # already does).
        AgencySettings.load()
        AgencySettings.objects.select_for_update().filter(pk=1).first()
        if partner_reference_taken(reference, case=case):
            raise ActionInvalid({"partner_reference": "Another case already has this agency reference."})

    return check
