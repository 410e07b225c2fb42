"""What each change does to a case, with Debitura's rules (the caller holds the state lock).

Over 400 lines on purpose: one function per operation of the spec that changes state, and the
rules they share (a merged case refuses, the acting user is checked, changes are logged on the
timeline). Start, close, payments and fees check one another's effects (a payment change can
reopen a case closed as Paid, a fee change can move the success fee), so the rules are read best
side by side; the HTTP side of each operation is debitura/emulator/api.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from . import dto
from .errors import ApiError, bad_request
from .files import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES, extension
from .http import UploadedFile, is_uuid
from .model import (
    CENT,
    CLOSE_CODES,
    COMMISSION_STATUSES,
    DOCUMENT_TYPES,
    PAYMENT_RECIPIENTS,
    ZERO,
    Case,
    CaseFile,
    Chat,
    ExclusivePeriod,
    Note,
    Payment,
    TimelineItem,
    User,
    add_months,
    money,
)
from .pricing import PRICE_CHANGE_THRESHOLD, computed_split, proposed_success_fee, revenue_share
from .state import State

WELCOME_MIN, WELCOME_MAX = 10, 5000
MESSAGE_MAX = 10_000
COMMENT_MAX = 2000
PARTNER_REFERENCE_MAX = 128
FILE_DESCRIPTION_MAX = 500
EXCLUSIVE_MONTHS = 6
# Where a partner may still talk and take notes; Closed takes documents only, Merged nothing.
OPEN_LIFECYCLES = frozenset(
    {"PendingVerification", "NeedsAdditionalDetails", "Leads", "LeadsQuoteGiven", "Active", "Paused"}
)
PAYABLE_LIFECYCLES = frozenset({"Active", "Paused", "NeedsAdditionalDetails"})


class Body:
    """Reads fields of a JSON body, collecting every problem into one 400."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.problems: list[tuple[str, str]] = []

    def fail(self, name: str, message: str, kind: str = "ValidationError") -> None:
        self.problems.append((kind, f"{name}: {message}"))

    def check(self) -> None:
        if self.problems:
            raise ApiError(400, "The request is invalid.", details=self.problems)

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        value = self.payload.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "is required.", "MissingField")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string.")
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(name, f"must be at most {max_length} characters.")
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        match = next((option for option in options if option.lower() == value.lower()), None)
        if match is None:
            self.fail(name, f"must be one of {', '.join(options)}.")
        return match

    def amount(self, name: str, *, minimum: Decimal = ZERO, required: bool = False) -> Decimal | None:
        value = self.payload.get(name)
        if value is None:
            if required:
                self.fail(name, "is required.", "MissingField")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(name, "must be a number.")
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(name, "must be a number.")
            return None
        if not amount.is_finite() or amount < minimum:
            self.fail(name, f"must be at least {minimum}.")
            return None
        return amount

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.payload.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "must be true or false.")
            return default
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        """A date-time, or a bare date taken as midnight UTC."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(name, "must be an ISO 8601 date or date-time.")
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def guid(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not is_uuid(value):
            self.fail(name, "must be a GUID.")
            return None
        return value


# -- helpers ------------------------------------------------------------------------------------
def _refuse_merged(case: Case, status: int = 400) -> None:
    if case.lifecycle == "Merged":
        raise ApiError(
            status, f"Case {case.reference} was merged into another case and is read-only.", "CaseMerged"
        )


def _require(case: Case, allowed: frozenset[str], action: str) -> None:
    _refuse_merged(case)
    if case.lifecycle not in allowed:
        label = dto.LIFECYCLES[case.lifecycle]
        raise ApiError(400, f"Cannot {action} a case in lifecycle '{label}'.", "InvalidCaseState")


def _actor(
    state: State, body: Body, email_field: str, id_field: str, role: str, *, required: bool
) -> User | None:
    email, user_id = body.text(email_field), body.guid(id_field)
    body.check()
    if not email and not user_id:
        if required:
            raise ApiError(
                400, f"Send {email_field} (or the deprecated {id_field}).", "MissingUserIdentifier"
            )
        return None
    return state.active_user(email=email, user_id=user_id, role=role)


def timeline_log(
    state: State, case: Case, kind: str, title: str, text: str, actor: str, who: str | None
) -> datetime:
    """Add a timeline entry and mark the case changed; returns the change's stamp."""
    when = state.touch(case)
    case.timeline.append(TimelineItem(when, kind, title, text, actor, who))
    return when


def api_user_name(state: State) -> str:
    return f"{state.partner.company_name} (API)"


def _reopen(state: State, case: Case) -> None:
    case.lifecycle, case.close_code, case.close_comment, case.date_finished = "Active", None, None, None
    timeline_log(
        state,
        case,
        "StatusChange",
        "Case reopened",
        "Reopened after a payment change.",
        "CollectionPartner",
        None,
    )
    state.fire("case.updated", case)


def _closed_as_paid(case: Case) -> bool:
    return case.lifecycle == "Closed" and case.close_code == "Paid"


# -- start and close ----------------------------------------------------------------------------
def case_start(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """Accept a Pending Verification case: Active, welcome chat, tasks resolved, exclusivity begins."""
    body = Body(payload)
    welcome = body.text("welcomeMessage", required=True, max_length=WELCOME_MAX)
    if welcome is not None and len(welcome) < WELCOME_MIN:
        body.fail("welcomeMessage", f"must be at least {WELCOME_MIN} characters.")
    reference = body.text("collectionPartnerReference", max_length=PARTNER_REFERENCE_MAX)
    fees = {name: body.amount(name) for name in ("interestFees", "reminderFees", "collectionFees")}
    body.check()
    sender = _actor(state, body, "userEmail", "userId", "User", required=True)
    assignee = _actor(state, body, "assignedUserEmail", "assignedUserId", "Assigned user", required=False)
    assert sender is not None
    assert welcome is not None
    _require(case, frozenset({"PendingVerification"}), "start")
    if case.needs_custom_terms:
        raise ApiError(
            400,
            "This case needs custom terms (claim type or dispute); negotiate it in the partner portal.",
            "CustomTermsRequired",
        )
    case.lifecycle = "Active"
    case.engagement_phase = "Pre-legal"
    case.validation_items = []
    case.assigned_user_id = assignee.id if assignee else None
    if reference:
        case.partner_reference = reference
        state.by_partner_reference[reference] = case
    case.interest_fees, case.reminder_fees, case.collection_fees = (
        money(fees[name] or 0) for name in ("interestFees", "reminderFees", "collectionFees")
    )
    started = timeline_log(
        state,
        case,
        "StatusChange",
        "Case accepted",
        "Lifecycle changed to Active.",
        "CollectionPartner",
        sender.name,
    )
    case.date_collection_started = started
    case.exclusive = ExclusivePeriod(started, add_months(started, EXCLUSIVE_MONTHS))
    post_chat(state, case, welcome, role=0, user=sender, seen=False)
    state.fire("case.updated", case)
    return {
        "caseId": case.id,
        "caseReference": case.reference,
        "status": dto.LIFECYCLES[case.lifecycle],
        "activatedAt": dto.stamp(started),
        "collectionPartnerReference": case.partner_reference,
    }


def case_close(
    state: State, case: Case, payload: dict[str, Any], *, by_creditor: bool = False
) -> dict[str, Any]:
    """Close with a code; Paid and PartiallyPaid must match the payments."""
    body = Body(payload)
    code = body.choice("closeCode", tuple(CLOSE_CODES), required=True)
    comment = body.text("comment", max_length=COMMENT_MAX)
    body.check()
    assert code is not None
    _require(case, OPEN_LIFECYCLES, "close")
    paid, owed = case.total_payments, case.outstanding
    if code == "Paid" and (not case.payments or paid < owed):
        raise ApiError(
            400,
            "Paid needs at least one payment and payments covering the outstanding amount.",
            "InvalidCloseCode",
        )
    if code == "PartiallyPaid" and (not case.payments or paid >= owed):
        raise ApiError(
            400,
            "PartiallyPaid needs at least one payment and payments below the outstanding amount.",
            "InvalidCloseCode",
        )
    who = (
        f"{case.creditor.contact_first_name} {case.creditor.contact_last_name}"
        if by_creditor
        else api_user_name(state)
    )
    closed_at = close_as(
        state, case, code, comment, actor="Creditor" if by_creditor else "CollectionPartner", who=who
    )
    return {
        "caseReference": case.reference,
        "closeCode": code,
        "closeCodeDescription": CLOSE_CODES[code],
        "comment": comment,
        "closedAt": dto.stamp(closed_at),
        "closedBy": {"userId": case.creditor.contact_number if by_creditor else 0, "userName": who},
        "finalOutstandingAmount": dto.number(case.remainder),
        "totalPayments": dto.number(paid),
        "totalRecovered": dto.number(min(paid, owed)),
    }


def close_as(
    state: State, case: Case, code: str, comment: str | None, *, actor: str, who: str | None
) -> datetime:
    case.lifecycle, case.close_code, case.close_comment = "Closed", code, comment
    if code == "WithdrawnByClient" and case.exclusive:
        case.exclusive.terminated = True
    when = timeline_log(
        state, case, "StatusChange", "Case closed", f"Closed: {CLOSE_CODES[code]}.", actor, who
    )
    case.date_finished = when
    state.fire("case.closed", case)
    return when


# -- payments -----------------------------------------------------------------------------------
@dataclass
class _PaymentFields:
    when: datetime
    amount: Decimal
    recipient: str
    commission: str
    split: tuple[Decimal, Decimal] | None


def _payment_fields(case: Case, body: Body) -> _PaymentFields:
    when = body.moment("date", required=True)
    amount = body.amount("paymentAmount", minimum=CENT, required=True)
    recipient = body.choice("paymentRecipient", PAYMENT_RECIPIENTS, required=True)
    commission = body.choice("commissionPaymentStatus", COMMISSION_STATUSES)
    to_creditor, to_partner = body.amount("payoutCreditor"), body.amount("payoutCollectionPartner")
    body.check()
    assert when is not None
    assert amount is not None
    assert recipient is not None
    if recipient == "Creditor" and commission is None:
        body.fail("commissionPaymentStatus", "is required when paymentRecipient is Creditor.", "MissingField")
    split = None
    if (to_creditor is None) != (to_partner is None):
        body.fail("payoutCreditor", "payoutCreditor and payoutCollectionPartner must be sent together.")
    elif to_creditor is not None and to_partner is not None:
        if abs(to_creditor + to_partner - amount) > CENT:
            body.fail(
                "payoutCreditor",
                "payoutCreditor + payoutCollectionPartner must equal paymentAmount (within 0.01).",
            )
        split = (to_creditor, to_partner)
    body.check()
    return _PaymentFields(
        when,
        money(amount),
        recipient,
        commission if recipient == "Creditor" and commission else "Paid",
        split,
    )


def apply_split(state: State, case: Case, payment: Payment, split: tuple[Decimal, Decimal] | None) -> None:
    if split is None:
        payment.payout_creditor, payment.payout_partner, payment.platform_share = computed_split(
            case, state.partner, payment.amount
        )
    else:
        payment.payout_creditor, payment.payout_partner = split
        payment.platform_share = money(split[1] * revenue_share(case, state.partner), case.currency)


def payment_create(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """Record a payment; split from the success fee unless given; closeCase closes only when settled."""
    body = Body(payload)
    fields = _payment_fields(case, body)
    close_requested = body.flag("closeCase")
    body.flag("createUnpaidCommissionFollowUp", default=True)
    body.check()
    _require(case, PAYABLE_LIFECYCLES, "register a payment on")
    warnings = []
    if case.remainder <= 0:
        warnings.append("The case had no outstanding balance before this payment: check for a duplicate.")
    if fields.split is not None and fields.split[0] <= 0:
        warnings.append("The payout split gives the creditor nothing: check the split.")
    payment = Payment(
        id=state.ids.uuid(),
        case_id=case.id,
        date=fields.when,
        amount=fields.amount,
        payout_creditor=ZERO,
        payout_partner=ZERO,
        platform_share=ZERO,
        recipient=fields.recipient,
        commission_status=fields.commission,
        date_created=state.clock.now(),
    )
    apply_split(state, case, payment, fields.split)
    case.payments.append(payment)
    state.payments[payment.id] = payment
    text = f"{payment.amount} {case.currency} received by {payment.recipient}."
    timeline_log(
        state, case, "Payment", "Payment registered", text, "CollectionPartner", api_user_name(state)
    )
    if case.exclusive:
        case.exclusive.extend("Payment", fields.when)
    state.fire("payment.created", case)
    closed = close_requested and case.remainder <= 0
    if closed:
        close_as(state, case, "Paid", None, actor="CollectionPartner", who=api_user_name(state))
    return {
        "paymentId": payment.id,
        "caseReference": case.reference,
        "date": dto.stamp(payment.date),
        "paymentAmount": dto.number(payment.amount),
        "payoutCreditor": dto.number(payment.payout_creditor),
        "payoutCollectionPartner": dto.number(payment.payout_partner),
        "paymentRecipient": payment.recipient,
        "commissionPaymentStatus": payment.commission_status,
        "closeCase": close_requested,
        "caseClosed": closed,
        "closeCode": "Paid" if closed else None,
        "remainingAmount": dto.number(case.remainder),
        "warnings": warnings,
    }


def payment_of(state: State, case: Case, payment_id: str) -> Payment:
    payment = state.payments.get(payment_id.lower())
    if payment is None or payment.case_id != case.id:
        raise ApiError(404, "Payment not found on this case.", "NotFound")
    return payment


def _guard_payment_change(case: Case, payment: Payment, new_total: Decimal, reopen: bool) -> bool:
    """Whether the change reopens the case; refuses invoiced payments and unconsented reopening."""
    _refuse_merged(case)
    if payment.invoiced:
        raise ApiError(
            422, "The payment's payout has been invoiced; it can no longer change.", "PaymentInvoiced"
        )
    reopens = _closed_as_paid(case) and case.outstanding - new_total > 0
    if reopens and not reopen:
        raise ApiError(
            409,
            "The change leaves a case closed as Paid with a balance; resend with reopenCaseIfNeeded.",
            "ReopenRequired",
        )
    return reopens


def payment_update(state: State, case: Case, payment: Payment, payload: dict[str, Any]) -> dict[str, Any]:
    """Edit a payment; the split is recomputed unless given."""
    body = Body(payload)
    fields = _payment_fields(case, body)
    reopen = body.flag("reopenCaseIfNeeded")
    body.check()
    reopens = _guard_payment_change(
        case, payment, case.total_payments - payment.amount + fields.amount, reopen
    )
    payment.date, payment.amount, payment.recipient = fields.when, fields.amount, fields.recipient
    payment.commission_status = fields.commission
    payment.date_updated = state.clock.now()
    apply_split(state, case, payment, fields.split)
    timeline_log(
        state,
        case,
        "Payment",
        "Payment edited",
        f"Payment changed to {payment.amount} {case.currency}.",
        "CollectionPartner",
        None,
    )
    if reopens:
        _reopen(state, case)
    return dto.payment(payment, case)


def payment_delete(state: State, case: Case, payment: Payment, *, reopen: bool) -> None:
    """Delete a payment, reverting its effect on the balance."""
    reopens = _guard_payment_change(case, payment, case.total_payments - payment.amount, reopen)
    case.payments.remove(payment)
    case.deleted_payments.append(payment)
    del state.payments[payment.id]
    timeline_log(
        state,
        case,
        "Payment",
        "Payment deleted",
        f"Payment of {payment.amount} {case.currency} deleted.",
        "CollectionPartner",
        None,
    )
    state.fire("payment.deleted", case)
    if reopens:
        _reopen(state, case)


# -- fees, notes, chat, files -------------------------------------------------------------------
def fees_update(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """Replace fees and maybe the principal; a price move over 0.1 points needs confirmation (409)."""
    body = Body(payload)
    gross = body.amount("grossAmount")
    fees = {name: body.amount(name) for name in ("interestFees", "reminderFees", "collectionFees")}
    confirm, keep = body.flag("confirmPriceChange"), body.flag("keepIntentionalRate")
    body.check()
    _refuse_merged(case)
    if case.lifecycle == "Closed":
        raise ApiError(400, "Fees cannot change on a closed case.", "InvalidCaseState")
    recalculated = None
    if gross is not None and money(gross) != case.gross_amount:
        gross = money(gross)
        current = case.success_fee
        proposed = proposed_success_fee(case, gross)
        moves = current is None or abs(proposed - current) > PRICE_CHANGE_THRESHOLD
        if case.intentional_rate and confirm:
            raise ApiError(
                400,
                "This case has a negotiated rate, which is preserve-only: resend with keepIntentionalRate.",
                "IntentionalRate",
            )
        resolved = keep if case.intentional_rate else confirm
        if moves and not resolved:
            raise ApiError(
                409, "Price change confirmation required.", body=_price_change(case, proposed, gross)
            )
        if not case.intentional_rate:
            case.success_fee = proposed
        recalculated = case.success_fee
        case.gross_amount = gross
    for name, attribute in (
        ("interestFees", "interest_fees"),
        ("reminderFees", "reminder_fees"),
        ("collectionFees", "collection_fees"),
    ):
        if fees[name] is not None:
            setattr(case, attribute, money(fees[name]))
    timeline_log(
        state,
        case,
        "Fees",
        "Fees updated",
        f"Principal {case.gross_amount}, fees {case.total_fees} {case.currency}.",
        "CollectionPartner",
        None,
    )
    return {
        "caseId": case.id,
        "grossAmount": dto.number(case.gross_amount),
        "interestFees": dto.number(case.interest_fees),
        "reminderFees": dto.number(case.reminder_fees),
        "collectionFees": dto.number(case.collection_fees),
        "totalAddedFees": dto.number(case.total_fees),
        "recalculatedSuccessFee": dto.number(recalculated),
        "remainder": dto.number(case.remainder),
    }


def _price_change(case: Case, proposed: Decimal, gross: Decimal) -> dict[str, Any]:
    lowered_with_payments = gross < case.gross_amount and bool(case.payments)
    resolution = "keepIntentionalRate" if case.intentional_rate else "confirmPriceChange"
    return {
        "caseId": case.id,
        "confirmationRequired": True,
        "isIntentionalRate": case.intentional_rate,
        "currentSuccessFee": dto.number(case.success_fee),
        "proposedSuccessFee": dto.number(proposed),
        "warning": "The principal is lowered on a case with payments: consider registering a payment instead."
        if lowered_with_payments
        else None,
        "message": f"The principal change moves the success fee from {case.success_fee}% to {proposed}%. "
        f"Resend with {resolution}: true to apply it.",
    }


def note_create(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """A note shared with the creditor; it shows in the timeline at its event date."""
    body = Body(payload)
    text = body.text("description", required=True, max_length=MESSAGE_MAX)
    event_date = body.moment("eventDate")
    body.check()
    assert text is not None
    now = state.clock.now()
    if event_date is not None and event_date > now:
        raise bad_request("eventDate: must not be in the future.")
    _require(case, OPEN_LIFECYCLES, "add a note to")
    note = Note(state.ids.uuid(), case.id, text, now, event_date, 0, api_user_name(state))
    case.notes.append(note)
    state.notes[note.id] = note
    state.touch(case)
    case.timeline.append(
        TimelineItem(event_date or now, "Note", "Note", text, "CollectionPartner", note.user_name)
    )
    return {
        "id": note.id,
        "caseReference": case.reference,
        "title": "Note",
        "description": text,
        "visibility": "SharedWithCreditor",
        "createdAt": dto.stamp(now),
        "eventDate": dto.stamp(event_date),
        "createdBy": {"userId": note.user_number, "userName": note.user_name},
    }


def chat_send(state: State, case: Case, payload: dict[str, Any]) -> dict[str, Any]:
    """A partner message in the case chat (the creditor is notified)."""
    body = Body(payload)
    message = body.text("message", required=True, max_length=MESSAGE_MAX)
    body.check()
    sender = _actor(state, body, "userEmail", "userId", "User", required=True)
    assert message is not None
    assert sender is not None
    _require(case, OPEN_LIFECYCLES, "chat on")
    return dto.chat(post_chat(state, case, message, role=0, user=sender, seen=False))


def post_chat(state: State, case: Case, message: str, *, role: int, user: User | None, seen: bool) -> Chat:
    chat = Chat.written(state.ids.uuid(), case, state.clock.tick(), role, message, user, seen=seen)
    case.chats.append(chat)
    state.chats[chat.id] = chat
    state.touch(case)
    state.fire("chat.created", case)
    return chat


def file_upload(state: State, case: Case, fields: dict[str, str], files: dict[str, UploadedFile]) -> CaseFile:
    """Attach a document: any lifecycle but Merged (409), 25 MB (413), listed extensions (415)."""
    upload = files.get("File") or files.get("file")
    if upload is None:
        raise bad_request("File: is required.", "MissingFile")
    document_type = fields.get("DocumentType") or None
    description = fields.get("Description") or None
    if document_type is not None and document_type not in DOCUMENT_TYPES:
        raise bad_request(f"DocumentType: must be one of {', '.join(DOCUMENT_TYPES)}.")
    if description is not None and len(description) > FILE_DESCRIPTION_MAX:
        raise bad_request(f"Description: must be at most {FILE_DESCRIPTION_MAX} characters.")
    _refuse_merged(case, 409)
    if len(upload.content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "The file exceeds the 25 MB limit.", "FileTooLarge")
    if extension(upload.file_name) not in ALLOWED_EXTENSIONS:
        raise ApiError(
            415,
            f"Files of type '{extension(upload.file_name) or 'none'}' are not accepted.",
            "UnsupportedFileType",
        )
    stored = CaseFile(
        state.ids.uuid(),
        case.id,
        upload.file_name,
        document_type,
        description,
        upload.content,
        state.clock.now(),
    )
    case.files.append(stored)
    state.files[stored.id] = stored
    timeline_log(
        state, case, "File", "Document uploaded", upload.file_name, "CollectionPartner", api_user_name(state)
    )
    return stored


# -- what creditors and Debitura do (control plane) ---------------------------------------------
EMAIL_MAX = 254
# Members added after the seed get ids derived from their e-mail, not drawn from the seeded
# generator, so adding them leaves every later seeded id (new assignments, payments) unchanged.
_TEAM_NAMESPACE = uuid.UUID("6f1c52c4-6d1e-4c55-9a43-0d9d3c1f3a71")


def team_member_add(state: State, *, email: Any, name: Any = None) -> User:
    """The agency adds someone to its team at Debitura (or takes them back): active from now on."""
    if not isinstance(email, str) or "@" not in email.strip() or len(email.strip()) > EMAIL_MAX:
        raise bad_request(f"email: must be an e-mail address of at most {EMAIL_MAX} characters.")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise bad_request("name: must be text of at most 200 characters.")
    email = email.strip()
    first, _, last = (name or "").strip().partition(" ")
    member = next((u for u in state.users.values() if u.email.lower() == email.lower()), None)
    if member is None:
        member = User(
            id=str(uuid.uuid5(_TEAM_NAMESPACE, email.lower())),
            number=next(state.seeder.numbers),
            first_name=first or email.split("@")[0],
            last_name=last,
            email=email,
            date_created=state.clock.now(),
        )
        state.users[member.id] = member
    else:
        member.active = True  # name unchanged: cases assigned to them keep the name they show
    return member


def creditor_message(state: State, case: Case, message: str) -> Chat:
    _refuse_merged(case)
    return post_chat(state, case, message, role=1, user=None, seen=False)


def creditor_withdraw(state: State, case: Case) -> None:
    _require(case, OPEN_LIFECYCLES, "withdraw")
    close_as(
        state,
        case,
        "WithdrawnByClient",
        "The creditor withdrew the case.",
        actor="Creditor",
        who=case.creditor.company_name,
    )


def case_merge(state: State, case: Case, into: Case) -> None:
    _require(case, OPEN_LIFECYCLES | {"Closed"}, "merge")
    if into is case:
        raise bad_request("A case cannot be merged into itself.")
    case.lifecycle, case.merged_into = "Merged", into.id
    if case.exclusive:
        case.exclusive.terminated = True
    when = timeline_log(
        state, case, "StatusChange", "Case merged", f"Merged into {into.reference}.", "System", None
    )
    case.date_finished = when
    state.fire("case.updated", case)


def case_assign(state: State, *, claim_type: str | None, dispute: str | None, is_test: bool) -> Case:
    """A new case arrives in Pending Verification."""
    world = state.seeder
    case = world.assignment(
        state.partner,
        list(state.creditors.values()),
        state.clock.tick(),
        claim_type=claim_type,
        dispute=dispute,
        is_test=is_test,
    )
    case.date_updated = case.date_created
    state.add_case(case)
    state.fire("case.assigned", case)
    return case


def case_change(state: State, case: Case, variant: int) -> None:
    """Something changes on the creditor's side (no webhook: it is not a lifecycle change)."""
    if variant % 2 == 0 or case.lifecycle in ("Closed", "Merged"):
        case.creditor_comments = f"Updated by the creditor at {dto.stamp(state.clock.now())}."
    else:
        case.reminder_fees += money(5, case.currency)
    timeline_log(
        state, case, "Update", "Case updated", "Case details changed.", "Creditor", case.creditor.company_name
    )
