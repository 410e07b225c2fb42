"""Agents' actions on a case: each one checked, written as an outbox row, and relayed after commit.

Every service takes keywords only and returns the OutboxAction. The optimistic local change is
small on purpose: a pending accept, close, note, chat message, fee change or upload is read from
the open rows. case_action_write is the one way an action is written; other apps' actions
(payments/actions.py, documents/actions.py) use it too, and add their rules for closing with
case_close_check_register.
A client-supplied `token` (a hidden form field) becomes the idempotency key, so a double
submit returns the row the first submit wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, TextChoices
from django.utils import timezone

from cases.models import Case, LifecycleChoices
from cases.references import case_reference_give
from cases.team import team_member_for
from debitura import validation
from debitura.enums import CloseCode
from debitura.errors import RequestInvalid
from outbox.models import OutboxAction
from outbox.tasks import relay_outbox
from partnerportal.models import AgencySettings

Kind = OutboxAction.Kind
OPEN_STATES = (OutboxAction.State.PENDING, OutboxAction.State.SENDING)
L = LifecycleChoices
WORKABLE = frozenset({L.ACTIVE, L.PAUSED, L.NEEDS_ADDITIONAL_DETAILS})
NOT_MERGED = frozenset(L) - {L.MERGED}


class ActionInvalid(ValidationError):
    """The action cannot be queued; `message_dict` maps each field (or "__all__") to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(dict(errors))


class NeedsConfirmation(Exception):
    """The action is possible, but the agent must answer these questions first (`warnings`).

    Raised under the case's lock, so two sessions asking at the same moment each see the other's
    action: the second one is asked. `remainder` is what the questions were based on.
    """

    def __init__(self, warnings: list[str], *, remainder: Decimal | None = None) -> None:
        self.warnings = warnings
        self.remainder = remainder
        super().__init__(" ".join(warnings))


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
# Debitura starts only these claim types through the API; the rest need terms negotiated there.
STANDARD_CLAIM_TYPES = frozenset({"Unpaid Invoice", "Loan Repayment"})
DEBITURA_PORTAL_URL = "https://partner.debitura.com"
# What an open row of these kinds makes the case, until Debitura answers.
_LIFECYCLE_AFTER = {Kind.ACCEPT: L.ACTIVE, Kind.DECLINE: L.CLOSED, Kind.CLOSE: L.CLOSED}


# --- Shared steps ------------------------------------------------------------------------------


@contextmanager
def action_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Turn the gateway's RequestInvalid (Debitura's field names) into ActionInvalid (ours)."""
    try:
        yield
    except RequestInvalid as exc:
        raise ActionInvalid(
            {names.get(field, field): message for field, message in exc.errors.items()}
        ) from None


def money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _team_email(actor: Any) -> str:
    """The actor's address in the agency's team at Debitura (the sender Debitura will check)."""
    member = team_member_for(user=actor)
    email = member.email if member else getattr(actor, "email", "")
    if not email:
        raise ActionInvalid({"__all__": "Your account has no e-mail address in the agency's Debitura team."})
    return email


def action_key(token: str | None) -> str:
    if token is None or token == "":
        return uuid.uuid4().hex
    with action_fields({"Idempotency-Key": "token"}), validation.checks() as c:
        c.idempotency_key(token)
    return token


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


# What another app checks before a case is closed (payments: Debitura's rules for Paid and
# PartiallyPaid), registered from its AppConfig.ready(); each may raise ActionInvalid.
_CLOSE_CHECKS: list[Callable[..., None]] = []


def case_close_check_register(check: Callable[..., None]) -> None:
    """Add a check that runs before a close is queued, as `check(case=..., close_code=...)`."""
    if check not in _CLOSE_CHECKS:
        _CLOSE_CHECKS.append(check)


def case_close_check(*, case: Case, close_code: CloseCode) -> None:
    """Run every registered close check on the local copy; raises ActionInvalid on the first refusal."""
    for check in _CLOSE_CHECKS:
        check(case=case, close_code=close_code)


def case_effective_lifecycle(*, case: Case, actions: Iterable[OutboxAction] | None = None) -> str:
    """The lifecycle the case will have once its open accept/decline/close rows are through.

    A row done after the local copy was last synced counts too: its refresh has not landed yet.
    `actions`, when given, are the case's rows already read (every open one and the newest), so
    the case page asks no query of its own.
    """
    lifecycle = case.lifecycle
    if actions is None:
        not_in_copy = Q(state__in=OPEN_STATES) | Q(state=OutboxAction.State.DONE, done_at__gte=case.synced_at)
        kinds = list(
            OutboxAction.objects.filter(not_in_copy, case=case, kind__in=list(_LIFECYCLE_AFTER))
            .order_by("created_at")
            .values_list("kind", flat=True)
        )
    else:
        kinds = [
            a.kind
            for a in sorted(actions, key=lambda a: a.created_at)
            if a.kind in _LIFECYCLE_AFTER
            and (
                a.state in OPEN_STATES
                or (a.state == OutboxAction.State.DONE and a.done_at and a.done_at >= case.synced_at)
            )
        ]
    for kind in kinds:
        lifecycle = _LIFECYCLE_AFTER[Kind(kind)]
    return lifecycle


def case_action_write(
    *,
    case: Case,
    actor: Any,
    kind: OutboxAction.Kind,
    payload: dict[str, Any],
    token: str | None,
    allowed: frozenset[str],
    optimistic: Callable[[OutboxAction], None] | None = None,
    check: Callable[[Case], None] | None = None,
    now: datetime | None = None,
) -> OutboxAction:
    """Write the row (and the optimistic change) in one transaction; queue the relay on commit.

    `check` runs under the case's lock, after the lifecycle check, and may raise ActionInvalid
    (or NeedsConfirmation).
    """
    key = action_key(token)
    with transaction.atomic():
        # One writer per case at a time: checks see every earlier action, and created_at is strictly
        # increasing per case, which is the order the relay keeps.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        existing = OutboxAction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return action_same_submit(existing, case=locked, actor=actor, kind=kind)
        lifecycle = case_effective_lifecycle(case=locked)
        if lifecycle not in allowed:
            label = L(lifecycle).label if lifecycle in L.values else lifecycle
            raise ActionInvalid({"__all__": f"Not possible on a case that is {label}."})
        if check is not None:
            check(locked)
        now = now or timezone.now()
        latest = OutboxAction.objects.filter(case=locked).aggregate(latest=Max("created_at"))["latest"]
        created = max(now, latest + timedelta(microseconds=1)) if latest else now
        try:
            with transaction.atomic():
                action = OutboxAction.objects.create(
                    kind=kind,
                    case=locked,
                    actor=actor,
                    payload=payload,
                    idempotency_key=key,
                    created_at=created,
                    next_attempt_at=created,
                )
        except IntegrityError:
            # The same token committed by a concurrent request in between.
            return action_same_submit(
                OutboxAction.objects.get(idempotency_key=key), case=locked, actor=actor, kind=kind
            )
        if optimistic is not None:
            optimistic(action)
        transaction.on_commit(lambda: relay_outbox.delay(str(action.id)))
    return action


def action_same_submit(existing: OutboxAction, *, case: Case, actor: Any, kind: str) -> OutboxAction:
    """The row a token already wrote, when it was this case's, this actor's and this kind's."""
    if (
        existing.case_id != case.pk
        or existing.kind != kind
        or existing.actor_id != getattr(actor, "pk", None)
    ):
        raise ActionInvalid({"token": "This form was already used for another action; reload the page."})
    return existing


# --- Lifecycle ---------------------------------------------------------------------------------


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
    user_email = _team_email(actor)
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


def case_close(
    *, case: Case, actor: Any, close_code: CloseCode | str, comment: str = "", token: str | None = None
) -> OutboxAction:
    """Close a case the agency works, with Debitura's reason code (Other needs a comment)."""
    code = CloseCode.parse(close_code) if isinstance(close_code, str) else close_code
    with action_fields({"closeCode": "close_code"}):
        validation.check_close(close_code=code, comment=comment or None)
    case_close_check(case=case, close_code=code)
    payload = {"close_code": code.value, "comment": comment}
    return case_action_write(
        case=case, actor=actor, kind=Kind.CLOSE, payload=payload, token=token, allowed=WORKABLE
    )


# --- Notes, chat, fees -------------------------------------------------------------------------


def case_note_add(
    *,
    case: Case,
    actor: Any,
    description: str,
    event_date: datetime | None = None,
    token: str | None = None,
) -> OutboxAction:
    """Add a note (shared with the creditor), optionally back-dated."""
    with action_fields({"eventDate": "event_date"}):
        validation.check_note(description=description, event_date=event_date, now=timezone.now())
    payload = {"description": description, "event_date": event_date.isoformat() if event_date else None}
    return case_action_write(
        case=case, actor=actor, kind=Kind.NOTE, payload=payload, token=token, allowed=WORKABLE
    )


def case_chat_send(*, case: Case, actor: Any, message: str, token: str | None = None) -> OutboxAction:
    """Send a chat message to the creditor as the acting team member."""
    user_email = _team_email(actor)
    with action_fields({"userEmail": "actor"}):
        validation.check_chat(message=message, user_email=user_email, idempotency_key=None)
    payload = {"message": message, "user_email": user_email}
    return case_action_write(
        case=case, actor=actor, kind=Kind.CHAT, payload=payload, token=token, allowed=WORKABLE
    )


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
