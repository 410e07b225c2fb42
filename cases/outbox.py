"""The outbox relay: sends agents' actions to Debitura, once each, in the order they were made.

A row moves pending -> sending (claimed) -> done | failed, or back to pending after a transient
error (with exponential backoff) or an expired lease (worker died mid-send). A send that may
have reached Debitura without an answer leaves the row `uncertain`; before an uncertain row
without an Idempotency-Key is sent again, the relay looks at the case for the effect.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cases.documents import case_file_upload_undo, case_file_uploaded
from cases.models import OutboxAction
from cases.references import case_reference_give, case_reference_take_back
from debitura.client import DebituraClient, get_client
from debitura.enums import CloseCode, CommissionPaymentStatus, DocumentType, Lifecycle, PaymentRecipient
from debitura.errors import (
    Conflict,
    NotFound,
    PermanentError,
    RequestInvalid,
    ResponseInvalid,
    TransientError,
    ValidationFailed,
)
from debitura.serialization import json_native
from debitura.types import PaymentCreated, PaymentInput
from payments.models import Payment

log = logging.getLogger(__name__)

Kind = OutboxAction.Kind
State = OutboxAction.State
OPEN_STATES = (State.PENDING, State.SENDING)

LEASE_SECONDS = 300
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 900.0
SWEEP_GRACE_SECONDS = 60


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# --- Outcomes ----------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    """What one relay attempt ended in."""

    DONE = "done"
    FOUND = "found"  # an uncertain row whose effect was already at Debitura
    RETRY = "retry"
    FAILED = "failed"
    LOST = "lost"  # our lease expired and someone else owns the row now


@dataclass
class RelayReport:
    """Counts of one relay run, by outcome."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def attempted(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.counts.items()))
        return f"{self.attempted} sent ({parts})" if parts else "nothing due"


class NeedsConsent(Exception):
    """Debitura answered that the change needs the agent's explicit consent (409 with data)."""

    def __init__(self, message: str, body: Any) -> None:
        self.message = message
        self.body = body
        super().__init__(message)


# --- Payload helpers ---------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _payment_input(data: dict[str, Any]) -> PaymentInput:
    parsed = parse_date(data["date"])
    if parsed is None:
        raise RequestInvalid({"date": "is not a date."})
    status = data.get("commission_status")
    amount = _decimal(data["amount"])
    assert amount is not None
    return PaymentInput(
        date=parsed,
        amount=amount,
        recipient=PaymentRecipient(data["recipient"]),
        commission_status=CommissionPaymentStatus(status) if status else None,
        payout_creditor=_decimal(data.get("payout_creditor")),
        payout_partner=_decimal(data.get("payout_partner")),
    )


def jsonable(value: Any) -> Any:
    """A typed gateway result (dataclasses, Decimals, dates, enums) as plain JSON for `response`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "raw"
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def payment_values(payment: PaymentInput) -> dict[str, Any]:
    """A payment's editable values as JSON for a payload (amounts as exact strings)."""
    return {
        "date": payment.date.isoformat(),
        "amount": str(payment.amount),
        "recipient": payment.recipient.value,
        "commission_status": payment.commission_status.value if payment.commission_status else "",
        "payout_creditor": None if payment.payout_creditor is None else str(payment.payout_creditor),
        "payout_partner": None if payment.payout_partner is None else str(payment.payout_partner),
    }


def payment_values_apply(*, payment: Payment, values: dict[str, Any]) -> None:
    """Copy payload values (see payment_values) onto a local Payment, without saving."""
    parsed = _payment_input(values)
    payment.date, payment.amount = parsed.date, parsed.amount
    payment.recipient = parsed.recipient.value
    payment.commission_status = parsed.commission_status.value if parsed.commission_status else ""
    payment.payout_creditor, payment.payout_partner = parsed.payout_creditor, parsed.payout_partner


def _local_payment(action: OutboxAction) -> Payment | None:
    payment_id = action.payload.get("payment_id")
    return Payment.objects.filter(pk=payment_id).first() if payment_id else None


def _remote_payment_id(action: OutboxAction) -> str:
    """Debitura's id of the payment an edit or delete is about, known once its creation was relayed."""
    payment = _local_payment(action)
    remote = (payment.remote_id if payment else None) or action.payload.get("remote_id")
    if not remote:
        raise PermanentError(
            "This payment was never recorded at Debitura, so it cannot be changed there.", status=0
        )
    return str(remote)


BEFORE = "before_send"


# --- Senders: one small function per kind, returning Debitura's answer --------------------------


def _send_accept(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    case = action.case

    def fee(name: str) -> Decimal | None:
        # Debitura sets a fee missing from the start to 0: a fee the agent left alone (None) is
        # sent as the case has it, so the creditor's reminder fees survive the accept.
        value = _decimal(p.get(name))
        return value if value is not None else getattr(case, name)

    return client.start_case(
        str(action.case_id),
        welcome_message=p["welcome_message"],
        user_email=p["user_email"],
        assigned_user_email=p.get("assigned_user_email") or None,
        partner_reference=p.get("partner_reference") or None,
        interest_fees=fee("interest_fees"),
        reminder_fees=fee("reminder_fees"),
        collection_fees=fee("collection_fees"),
    )


def _send_close(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    return client.close_case(
        str(action.case_id), close_code=CloseCode(p["close_code"]), comment=p.get("comment") or None
    )


def _send_note(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    event_date = parse_datetime(p["event_date"]) if p.get("event_date") else None
    return client.create_note(str(action.case_id), description=p["description"], event_date=event_date)


def _send_chat(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    return client.send_chat(
        str(action.case_id),
        message=p["message"],
        user_email=p["user_email"],
        idempotency_key=action.idempotency_key,
    )


def _send_fees(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    result = client.update_fees(
        str(action.case_id),
        interest_fees=Decimal(p["interest_fees"]),
        reminder_fees=Decimal(p["reminder_fees"]),
        collection_fees=Decimal(p["collection_fees"]),
        gross_amount=_decimal(p.get("gross_amount")),
        confirm_price_change=bool(p.get("confirm_price_change")),
        keep_intentional_rate=bool(p.get("keep_intentional_rate")),
    )
    if result.confirmation is not None:
        c = result.confirmation
        words = c.message or c.warning or "Debitura asks to confirm the change of the success fee."
        rates = f" (from {c.current_success_fee}% to {c.proposed_success_fee}%)"
        raise NeedsConsent(
            f"{words}{rates if c.proposed_success_fee is not None else ''} Resend with consent to apply it.",
            jsonable(c),
        )
    return result.updated


def _send_payment_create(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    return client.create_payment(
        str(action.case_id),
        _payment_input(p),
        close_case=bool(p.get("close_case")),
        idempotency_key=action.idempotency_key,
    )


@contextmanager
def _payment_change_refusals(action: OutboxAction) -> Iterator[None]:
    """409 on an edit or delete means the case would reopen: ask the agent. 422 means invoiced: frozen."""
    try:
        yield
    except Conflict as exc:
        raise NeedsConsent(
            f"{exc.message} Resending with your consent reopens the case to Active.",
            {**(json_native(exc.body) if isinstance(exc.body, dict) else {}), "reopen_required": True},
        ) from exc
    except ValidationFailed as exc:
        if exc.status == 422 and not exc.is_idempotency_conflict:
            Payment.objects.filter(pk=action.payload.get("payment_id")).update(frozen_reason=exc.message)
        raise


def _send_payment_update(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    with _payment_change_refusals(action):
        return client.update_payment(
            str(action.case_id),
            _remote_payment_id(action),
            _payment_input(p),
            reopen_case_if_needed=bool(p.get("reopen_case_if_needed")),
        )


def _send_payment_delete(action: OutboxAction, client: DebituraClient) -> Any:
    with _payment_change_refusals(action):
        client.delete_payment(
            str(action.case_id),
            _remote_payment_id(action),
            reopen_case_if_needed=bool(action.payload.get("reopen_case_if_needed")),
        )
    return None


def _send_file(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    document_type = DocumentType(p["document_type"]) if p.get("document_type") else None
    with default_storage.open(p["stored_name"], "rb") as stream:
        return client.upload_file(
            str(action.case_id),
            stream,
            file_name=p["file_name"],
            document_type=document_type,
            description=p.get("description") or None,
        )


# --- Effect checks: is an uncertain action's effect already at Debitura? -------------------------


def _check_accept(action: OutboxAction, client: DebituraClient) -> bool:
    reference = action.payload.get("partner_reference")
    if reference:
        try:
            found = client.get_case_by_partner_reference(reference)
        except NotFound:
            return False
        return found.id.lower() == str(action.case_id).lower() and found.lifecycle is Lifecycle.ACTIVE
    return client.get_case(str(action.case_id)).lifecycle is Lifecycle.ACTIVE


def _undo_accept(action: OutboxAction, cancelled: bool) -> None:
    case_reference_take_back(case_id=action.case_id, reference=action.payload.get("partner_reference") or "")


def _redo_accept(action: OutboxAction) -> None:
    case_reference_give(case_id=action.case_id, reference=action.payload.get("partner_reference") or "")


def _check_closed(action: OutboxAction, client: DebituraClient) -> bool:
    return client.get_case(str(action.case_id)).lifecycle is Lifecycle.CLOSED


def _same_note(action: OutboxAction, item: Any) -> bool:
    return bool((item.description or "").strip() == action.payload["description"].strip())


def _before_note(action: OutboxAction, client: DebituraClient) -> int:
    """How many notes with this text the timeline holds before ours is sent."""
    return sum(_same_note(action, item) for item in client.get_timeline(str(action.case_id)).items)


def _check_note(action: OutboxAction, client: DebituraClient) -> bool:
    before = action.payload.get(BEFORE)
    if before is None:
        return False  # nothing was sent: the count is taken before the first send
    return _before_note(action, client) > before


def _same_file(action: OutboxAction, remote: Any) -> bool:
    description = action.payload.get("description") or None
    return bool(
        remote.file_name == action.payload["file_name"]
        and (remote.description is None or remote.description == description)
    )


def _before_file(action: OutboxAction, client: DebituraClient) -> list[str]:
    """The ids of files like ours that the case holds before ours is sent."""
    return sorted(f.id for f in client.list_files(str(action.case_id)) if _same_file(action, f))


def _check_file(action: OutboxAction, client: DebituraClient) -> bool:
    before = action.payload.get(BEFORE)
    if before is None:
        return False  # nothing was sent: the ids are taken before the first send
    return any(_same_file(action, f) and f.id not in before for f in client.list_files(str(action.case_id)))


# ISO 4217 currencies without the usual two decimals; Debitura rounds amounts to the currency.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def _same_amount(requested: Decimal, remote: Decimal, currency: str | None) -> bool:
    unit = Decimal(1).scaleb(-_MINOR_UNITS.get((currency or "").upper(), 2))
    return requested.quantize(unit, ROUND_HALF_UP) == remote.quantize(unit, ROUND_HALF_UP)


def _check_fees(action: OutboxAction, client: DebituraClient) -> bool:
    p = action.payload
    case = client.get_case(str(action.case_id))
    remote = {
        "interest_fees": case.interest_fees,
        "reminder_fees": case.reminder_fees,
        "collection_fees": case.collection_fees,
        "gross_amount": case.gross_amount,
    }
    return all(
        p.get(name) in (None, "") or _same_amount(Decimal(p[name]), value, case.currency)
        for name, value in remote.items()
    )


# --- Local consequences: confirm or roll back the optimistic change ------------------------------


def _confirm_payment_create(action: OutboxAction, result: Any) -> None:
    payment = _local_payment(action)
    if payment is None:
        return
    if not isinstance(result, PaymentCreated):
        # Debitura took it but its answer was unreadable: the refresh brings Debitura's copy.
        payment.delete()
        return
    # Debitura's id is matched within this case only: a payment of another case with the same
    # id (ids have repeated) is neither taken for ours nor moved here.
    synced = Payment.objects.filter(case_id=payment.case_id, remote_id=result.payment_id)
    synced = synced.exclude(pk=payment.pk)
    if synced.exists():
        # A pull sync already brought Debitura's copy; ours was only the placeholder.
        synced.update(action=action)
        payment.delete()
        return
    payment.remote_id = result.payment_id
    payment.state = Payment.State.CONFIRMED
    payment.warnings = list(result.warnings)
    payment.payout_creditor = result.payout_creditor
    payment.payout_partner = result.payout_collection_partner
    payment.save()


def _confirm_payment_update(action: OutboxAction, result: Any) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id")).update(state=Payment.State.CONFIRMED)


def _confirm_payment_delete(action: OutboxAction, result: Any) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id")).delete()


def _undo_payment_create(action: OutboxAction, cancelled: bool) -> None:
    payments = Payment.objects.filter(pk=action.payload.get("payment_id"), remote_id__isnull=True)
    if cancelled:
        payments.delete()
    else:
        payments.update(state=Payment.State.FAILED)


def _undo_payment_update(action: OutboxAction, cancelled: bool) -> None:
    payment = _local_payment(action)
    if payment is not None and action.payload.get("previous"):
        payment_values_apply(payment=payment, values=action.payload["previous"])
        payment.state = Payment.State.CONFIRMED
        payment.save()


def _undo_payment_delete(action: OutboxAction, cancelled: bool) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id"), state=Payment.State.DELETING).update(
        state=Payment.State.CONFIRMED
    )


def _redo_payment(action: OutboxAction) -> None:
    """Show the payment as on its way again when a failed row is retried."""
    payment = _local_payment(action)
    if payment is None:
        return
    if action.kind == Kind.PAYMENT_UPDATE:
        payment_values_apply(payment=payment, values=action.payload)
    payment.state = Payment.State.DELETING if action.kind == Kind.PAYMENT_DELETE else Payment.State.PENDING
    payment.save()


def _is_gone(exc: PermanentError) -> bool:
    return isinstance(exc, NotFound)


@dataclass(frozen=True)
class Handler:
    """How one kind of action is sent, checked after an unclear failure, confirmed and undone.

    `check` is None where resending is safe: an Idempotency-Key replays the first answer, or
    the request (PUT, DELETE) is idempotent by nature.
    """

    send: Callable[[OutboxAction, DebituraClient], Any]
    check: Callable[[OutboxAction, DebituraClient], bool] | None = None
    confirm: Callable[[OutboxAction, Any], None] | None = None
    undo: Callable[[OutboxAction, bool], None] | None = None
    redo: Callable[[OutboxAction], None] | None = None
    # A refusal that means the effect is already there (deleting a payment that is gone).
    already_done: Callable[[PermanentError], bool] | None = None
    # What the case holds before the first send, kept in the payload under BEFORE, so that the
    # check tells our effect from a look-alike already there (the creditor's own proof.pdf).
    before: Callable[[OutboxAction, DebituraClient], Any] | None = None


HANDLERS: dict[str, Handler] = {
    Kind.ACCEPT: Handler(_send_accept, _check_accept, undo=_undo_accept, redo=_redo_accept),
    Kind.DECLINE: Handler(_send_close, _check_closed),
    Kind.CLOSE: Handler(_send_close, _check_closed),
    Kind.NOTE: Handler(_send_note, _check_note, before=_before_note),
    Kind.CHAT: Handler(_send_chat),
    Kind.FEES: Handler(_send_fees, _check_fees),
    Kind.PAYMENT_CREATE: Handler(
        _send_payment_create, confirm=_confirm_payment_create, undo=_undo_payment_create, redo=_redo_payment
    ),
    Kind.PAYMENT_UPDATE: Handler(
        _send_payment_update, confirm=_confirm_payment_update, undo=_undo_payment_update, redo=_redo_payment
    ),
    Kind.PAYMENT_DELETE: Handler(
        _send_payment_delete,
        confirm=_confirm_payment_delete,
        undo=_undo_payment_delete,
        redo=_redo_payment,
        already_done=_is_gone,
    ),
    Kind.FILE_UPLOAD: Handler(
        _send_file, _check_file, confirm=case_file_uploaded, undo=case_file_upload_undo, before=_before_file
    ),
}


# --- Claiming ----------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    """Pending rows whose time has come and that no earlier open row of the same case holds back."""
    earlier_open = OutboxAction.objects.filter(
        case_id=OuterRef("case_id"), state__in=OPEN_STATES, created_at__lt=OuterRef("created_at")
    )
    return (
        OutboxAction.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .exclude(Exists(earlier_open))
        .order_by("next_attempt_at", "created_at")
    )


def _claim(now: datetime, action_id: str | None = None) -> OutboxAction | None:
    """Take one due row (that row, when an id is given) by moving it to SENDING.

    On PostgreSQL the candidates are locked with SKIP LOCKED so concurrent claimers spread out;
    the conditional UPDATE is the claim itself and is race-free on every database.
    """
    with transaction.atomic():
        due = _due(now)
        if action_id is not None:
            due = due.filter(pk=action_id)
        candidates = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:5])
        for pk in candidates:
            claimed = OutboxAction.objects.filter(pk=pk, state=State.PENDING).update(
                state=State.SENDING, attempts=F("attempts") + 1, sent_at=now, updated_at=now
            )
            if claimed:
                return OutboxAction.objects.select_related("case").get(pk=pk)
    return None


def outbox_release_expired(*, now: datetime | None = None) -> int:
    """Rows stuck in SENDING past the lease: the worker died mid-send, so the outcome is unknown."""
    now = now or timezone.now()
    lease = timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS))
    released = OutboxAction.objects.filter(state=State.SENDING, sent_at__lt=now - lease).update(
        state=State.PENDING,
        uncertain=True,
        next_attempt_at=now,
        updated_at=now,
        last_error="The send was interrupted; Debitura will be checked before sending again.",
    )
    if released:
        log.warning("outbox released %d rows whose lease expired", released)
    return released


# --- Relaying ----------------------------------------------------------------------------------


def backoff_seconds(*, attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, capped; never sooner than Debitura's retryAfter."""
    base = _setting("OUTBOX_BACKOFF_BASE_SECONDS", BACKOFF_BASE_SECONDS)
    cap = _setting("OUTBOX_BACKOFF_CAP_SECONDS", BACKOFF_CAP_SECONDS)
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)


def _finish(action: OutboxAction, now: datetime, **changes: Any) -> bool:
    """Write the outcome if we still own the row (state SENDING at our attempt); False otherwise."""
    owned = OutboxAction.objects.filter(pk=action.pk, state=State.SENDING, attempts=action.attempts)
    changes.setdefault("updated_at", now)
    if not owned.update(**changes):
        return False
    for field, value in changes.items():
        setattr(action, field, value)
    return True


def _done(action: OutboxAction, now: datetime, handler: Handler, result: Any, response: Any) -> bool:
    with transaction.atomic():
        if not _finish(
            action, now, state=State.DONE, done_at=now, uncertain=False, last_error="", response=response
        ):
            return False
        if handler.confirm is not None:
            handler.confirm(action, result)
    return True


def _retry(action: OutboxAction, now: datetime, exc: Exception, *, ambiguous: bool) -> bool:
    retry_after = exc.retry_after if isinstance(exc, TransientError) else None
    delay = backoff_seconds(attempts=action.attempts, retry_after=retry_after)
    with transaction.atomic():
        if not _finish(
            action,
            now,
            state=State.PENDING,
            next_attempt_at=now + timedelta(seconds=delay),
            uncertain=action.uncertain or ambiguous,
            last_error=f"{exc} Trying again in {delay:.0f} s.",
        ):
            return False
        transaction.on_commit(lambda: _queue(str(action.pk), countdown=delay))
    return True


def _fail(action: OutboxAction, now: datetime, handler: Handler, message: str, body: Any) -> bool:
    with transaction.atomic():
        if not _finish(action, now, state=State.FAILED, last_error=message, response=body):
            return False
        if handler.undo is not None:
            handler.undo(action, False)
    return True


def _queue(action_id: str | None, *, countdown: float | None = None) -> None:
    from cases.tasks import relay_outbox

    if countdown:
        relay_outbox.apply_async(args=(action_id,), countdown=countdown)
    else:
        relay_outbox.delay(action_id)


def _refresh(action: OutboxAction, client: DebituraClient) -> None:
    """Bring the local case back to Debitura's truth; a failure here changes nothing about the row."""
    from cases.sync import case_refresh

    try:
        case_refresh(case_id=str(action.case_id), client=client)
    except Exception:
        log.warning("outbox refresh after action=%s case=%s failed", action.pk, action.case_id, exc_info=True)


def _send(action: OutboxAction, client: DebituraClient, now: datetime) -> Outcome:
    handler = HANDLERS[action.kind]
    try:
        if action.uncertain and handler.check is not None and handler.check(action, client):
            response = {"effectFound": True, "checkedAt": now.isoformat()}
            return Outcome.FOUND if _done(action, now, handler, None, response) else Outcome.LOST
        if handler.before is not None and BEFORE not in action.payload:
            payload = {**action.payload, BEFORE: handler.before(action, client)}
            if not _finish(action, now, payload=payload):
                return Outcome.LOST
        result = handler.send(action, client)
    except TransientError as exc:
        return Outcome.RETRY if _retry(action, now, exc, ambiguous=exc.ambiguous) else Outcome.LOST
    except ResponseInvalid as exc:
        # A 2xx we cannot read: the request took effect.
        return Outcome.DONE if _done(action, now, handler, None, {"unreadable": str(exc)}) else Outcome.LOST
    except PermanentError as exc:
        return _permanent(action, now, handler, exc)
    except NeedsConsent as exc:
        return Outcome.FAILED if _fail(action, now, handler, exc.message, exc.body) else Outcome.LOST
    except RequestInvalid as exc:
        message = f"Debitura would refuse this: {exc}"
        return Outcome.FAILED if _fail(action, now, handler, message, None) else Outcome.LOST
    except Exception as exc:
        # Our own fault (storage, database): keep the row, uncertain, and let backoff pace it.
        log.exception("outbox action=%s kind=%s raised", action.pk, action.kind)
        return Outcome.RETRY if _retry(action, now, exc, ambiguous=True) else Outcome.LOST
    return Outcome.DONE if _done(action, now, handler, result, jsonable(result)) else Outcome.LOST


def _permanent(action: OutboxAction, now: datetime, handler: Handler, exc: PermanentError) -> Outcome:
    body = json_native(exc.body) if exc.body is not None else None
    if handler.already_done is not None and handler.already_done(exc):
        return Outcome.DONE if _done(action, now, handler, None, body) else Outcome.LOST
    return Outcome.FAILED if _fail(action, now, handler, exc.message, body) else Outcome.LOST


def outbox_relay_one(*, action: OutboxAction, client: DebituraClient, now: datetime | None = None) -> Outcome:
    """Send one claimed (SENDING) row, record the outcome, and refresh the case after an answer."""
    now = now or timezone.now()
    outcome = _send(action, client, now)
    log.info(
        "outbox send action=%s kind=%s case=%s attempt=%d outcome=%s",
        action.pk,
        action.kind,
        action.case_id,
        action.attempts,
        outcome,
    )
    if outcome in (Outcome.DONE, Outcome.FOUND, Outcome.FAILED):
        _refresh(action, client)
    return outcome


def outbox_relay_due(
    *,
    first_action_id: str | None = None,
    client: DebituraClient | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> RelayReport:
    """Claim and send due rows (the given one first) until none is due or `limit` were sent."""
    client = client or get_client()
    report = RelayReport()
    outbox_release_expired(now=now)
    wanted = first_action_id
    while report.attempted < limit:
        moment = now or timezone.now()
        action = _claim(moment, wanted)
        if action is None and wanted is not None:
            wanted = None
            continue
        if action is None:
            break
        wanted = None
        report.add(outbox_relay_one(action=action, client=client, now=moment))
    return report


def outbox_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Release expired leases and queue a relay for rows left due longer than a grace period."""
    now = now or timezone.now()
    outbox_release_expired(now=now)
    grace = timedelta(seconds=_setting("OUTBOX_SWEEP_GRACE_SECONDS", SWEEP_GRACE_SECONDS))
    stale = list(_due(now - grace).values_list("pk", flat=True)[:limit])
    for pk in stale:
        transaction.on_commit(partial(_queue, str(pk)))
    if stale:
        log.info("outbox sweep queued %d rows left behind", len(stale))
    return len(stale)


# --- Administration ----------------------------------------------------------------------------


class OutboxStateError(Exception):
    """The row is not in a state that allows the requested change."""


def outbox_retry(*, action: OutboxAction, actor: Any, now: datetime | None = None) -> OutboxAction:
    """Send a failed row again (an administrator's decision); its optimistic change reappears."""
    now = now or timezone.now()
    with transaction.atomic():
        row = OutboxAction.objects.select_for_update().get(pk=action.pk)
        if row.state != State.FAILED:
            raise OutboxStateError(
                f"Only failed actions can be retried; this one is {row.get_state_display()}."
            )
        row.state = State.PENDING
        row.next_attempt_at = now
        row.last_error = f"Retried by {actor} at {now:%Y-%m-%d %H:%M} (was: {row.last_error})"
        row.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
        handler = HANDLERS[row.kind]
        if handler.redo is not None:
            handler.redo(row)
        transaction.on_commit(lambda: _queue(str(row.pk)))
    log.info("outbox action=%s retried by %s", row.pk, actor)
    return row


def outbox_cancel(*, action: OutboxAction, actor: Any, now: datetime | None = None) -> OutboxAction:
    """Withdraw a pending row before it is sent; its optimistic change is undone."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = OutboxAction.objects.filter(pk=action.pk, state=State.PENDING).update(
            state=State.CANCELLED,
            updated_at=now,
            last_error=f"Cancelled by {actor} at {now:%Y-%m-%d %H:%M} before it was sent.",
        )
        row = OutboxAction.objects.get(pk=action.pk)
        if not updated:
            raise OutboxStateError(
                f"Only pending actions can be cancelled; this one is {row.get_state_display()}."
            )
        handler = HANDLERS[row.kind]
        if handler.undo is not None:
            handler.undo(row, True)
    log.info("outbox action=%s cancelled by %s", row.pk, actor)
    return row


__all__ = [
    "HANDLERS",
    "Outcome",
    "RelayReport",
    "backoff_seconds",
    "outbox_cancel",
    "outbox_relay_due",
    "outbox_relay_one",
    "outbox_release_expired",
    "outbox_retry",
    "outbox_sweep",
    "payment_values",
    "payment_values_apply",
]
