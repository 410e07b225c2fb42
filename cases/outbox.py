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
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connections, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cases.documents import case_file_upload_undo, case_file_uploaded
from cases.models import Case, ChatMessage, OutboxAction, TimelineItem
from cases.references import case_reference_give, case_reference_take_back
from cases.sync import CHILD_PARTS, case_read_back, chat_store
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
from debitura.types import Chat, Note, PaymentCreated, PaymentInput, Timeline, TimelineActor
from debitura.types import TimelineItem as TimelineEntry
from payments.models import Payment

log = logging.getLogger(__name__)

Kind = OutboxAction.Kind
State = OutboxAction.State
OPEN_STATES = (State.PENDING, State.SENDING)

# A claimed row's heartbeat is renewed every LEASE_SECONDS / HEARTBEATS_PER_LEASE while its send
# is alive; one not renewed for LEASE_SECONDS belongs to a dead worker and is taken back.
LEASE_SECONDS = 20
HEARTBEATS_PER_LEASE = 4
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


def _before_note(
    action: OutboxAction, client: DebituraClient, known: Timeline | None = None
) -> tuple[int, Timeline]:
    """How many notes with this text the timeline holds before ours is sent, and the timeline.

    `known` is the timeline as this relay run left it a moment ago (read before the case's
    previous note and completed with that note): it spares a read.
    """
    timeline = known if known is not None else client.get_timeline(str(action.case_id))
    return sum(_same_note(action, item) for item in timeline.items), timeline


def _check_note(action: OutboxAction, client: DebituraClient) -> bool:
    before = action.payload.get(BEFORE)
    if before is None:
        return False  # nothing was sent: the count is taken before the first send
    return _before_note(action, client)[0] > before


def _same_file(action: OutboxAction, remote: Any) -> bool:
    description = action.payload.get("description") or None
    return bool(
        remote.file_name == action.payload["file_name"]
        and (remote.description is None or remote.description == description)
    )


def _before_file(action: OutboxAction, client: DebituraClient, known: Any = None) -> tuple[list[str], None]:
    """The ids of files like ours that the case holds before ours is sent."""
    return sorted(f.id for f in client.list_files(str(action.case_id)) if _same_file(action, f)), None


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


def _fold_note(action: OutboxAction, result: Any, listing: Timeline | None) -> Timeline | None:
    """The note joins the local timeline as Debitura's answer describes it; returns the timeline
    as Debitura lists it now (the one read before the send, with the note), None without one."""
    if not isinstance(result, Note):
        return None
    by = result.created_by.user_name if result.created_by else None
    when = result.event_date or result.created_at or timezone.now()
    title, description = result.title or "Note", result.description or str(action.payload["description"])
    ours = TimelineEntry(
        date=when,
        type="Note",
        title=title,
        description=description,
        actor=TimelineActor(type="CollectionPartner", name=by),
    )
    timeline = TimelineItem.objects.filter(case_id=action.case_id)
    if listing is not None or not timeline.filter(type="Note", date=when, description=description).exists():
        last = timeline.aggregate(last=Max("position"))["last"]
        # A refresh of the whole timeline writing at the same moment wins (it has the note).
        TimelineItem.objects.bulk_create(
            [
                TimelineItem(
                    case_id=action.case_id,
                    position=0 if last is None else last + 1,
                    date=when,
                    type="Note",
                    title=title[:500],
                    description=description,
                    actor_type="CollectionPartner",
                    actor_name=by or "",
                )
            ],
            ignore_conflicts=True,
        )
    if listing is None:
        return None
    return replace(listing, items=tuple(sorted([*listing.items, ours], key=lambda entry: entry.date or when)))


def _confirm_chat(action: OutboxAction, result: Any) -> None:
    """The message joins the local chat as Debitura answered it (never taken from another case)."""
    if (
        isinstance(result, Chat)
        and not ChatMessage.objects.filter(id=result.id).exclude(case_id=action.case_id).exists()
    ):
        chat_store(case=action.case, remote=result)


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
    # check tells our effect from a look-alike already there (the creditor's own proof.pdf). It
    # returns what to keep and the listing (of the child named by `listing`) it read, or was
    # given as the run knows it.
    before: Callable[[OutboxAction, DebituraClient, Any], tuple[Any, Any]] | None = None
    listing: str | None = None
    # Puts that listing together with Debitura's answer (None when an earlier attempt read the
    # listing): the child as it is now, without reading it again.
    fold: Callable[[OutboxAction, Any, Any], Any] | None = None
    # What is read back from Debitura once the row is done ("case" and CHILD_PARTS): what the
    # action changed that its answer does not carry (confirm writes what it does carry). `blind`
    # is read instead when there was no answer to apply: the effect was found after an unclear
    # failure, or the answer could not be read. The rest of the case follows through the sync
    # and the children queue, as any change at Debitura does.
    reads: frozenset[str] = frozenset()
    blind: frozenset[str] = frozenset()


CASE = frozenset({"case"})
CASE_AND_PAYMENTS = frozenset({"case", "payments"})
EVERYTHING = frozenset({"case", *CHILD_PARTS})

HANDLERS: dict[str, Handler] = {
    # Starting a case changes it throughout: lifecycle, the welcome chat, exclusivity, validation.
    Kind.ACCEPT: Handler(
        _send_accept, _check_accept, undo=_undo_accept, redo=_redo_accept, reads=EVERYTHING, blind=EVERYTHING
    ),
    Kind.DECLINE: Handler(_send_close, _check_closed, reads=CASE, blind=CASE),
    Kind.CLOSE: Handler(_send_close, _check_closed, reads=CASE, blind=CASE),
    Kind.NOTE: Handler(
        _send_note,
        _check_note,
        before=_before_note,
        listing="timeline",
        fold=_fold_note,
        blind=frozenset({"timeline"}),
    ),
    Kind.CHAT: Handler(_send_chat, confirm=_confirm_chat, blind=frozenset({"chats"})),
    Kind.FEES: Handler(_send_fees, _check_fees, reads=CASE, blind=CASE),
    Kind.PAYMENT_CREATE: Handler(
        _send_payment_create,
        confirm=_confirm_payment_create,
        undo=_undo_payment_create,
        redo=_redo_payment,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
    Kind.PAYMENT_UPDATE: Handler(
        _send_payment_update,
        confirm=_confirm_payment_update,
        undo=_undo_payment_update,
        redo=_redo_payment,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
    Kind.PAYMENT_DELETE: Handler(
        _send_payment_delete,
        confirm=_confirm_payment_delete,
        undo=_undo_payment_delete,
        redo=_redo_payment,
        already_done=_is_gone,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
    Kind.FILE_UPLOAD: Handler(
        _send_file,
        _check_file,
        confirm=case_file_uploaded,
        undo=case_file_upload_undo,
        before=_before_file,
        blind=frozenset({"files"}),
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


# Due rows a relay claims at once (one per case: only a case's first open row is due), sent one
# after another; one claim costs a write transaction, so several rows share it.
CLAIM_BATCH = 5


def _claim_batch(
    now: datetime,
    action_id: str | None = None,
    *,
    limit: int = CLAIM_BATCH,
    among: list[Any] | None = None,
    counted: dict[Any, Any] | None = None,
) -> list[OutboxAction]:
    """Take up to `limit` due rows (that row only, when an id is given; only those `among`, when
    given) by moving them to SENDING, and write the look-alike counts taken for them (`counted`,
    see _count_before_claim) into their payload in the same commit.

    On PostgreSQL the candidates are locked with SKIP LOCKED so concurrent claimers spread out;
    the conditional UPDATE is the claim itself and is race-free on every database.
    """
    with transaction.atomic():
        due = _due(now)
        if action_id is not None:
            due = due.filter(pk=action_id)
        if among is not None:
            due = due.filter(pk__in=among)
        candidates = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if not candidates:
            return []
        OutboxAction.objects.filter(pk__in=candidates, state=State.PENDING).update(
            state=State.SENDING, attempts=F("attempts") + 1, sent_at=now, heartbeat_at=now, updated_at=now
        )
        claimed = {
            a.pk: a for a in OutboxAction.objects.filter(pk__in=candidates, state=State.SENDING, sent_at=now)
        }
        counts = []
        for pk, (kept, _listing) in (counted or {}).items():
            action = claimed.get(pk)
            if action is not None and BEFORE not in action.payload:
                action.payload = {**action.payload, BEFORE: kept}
                counts.append(action)
        if counts:
            OutboxAction.objects.bulk_update(counts, ["payload"])
    return [claimed[pk] for pk in candidates if pk in claimed]


def _count_before_claim(
    now: datetime, action_id: str | None, limit: int, client: DebituraClient, read_backs: ReadBacks
) -> tuple[list[Any], dict[Any, Any]]:
    """The due rows a claim would take, and for those that count look-alikes before their first
    send (notes, uploads) the count, taken now, outside any transaction: the claim then writes it
    in its own commit instead of one more commit per action (a disk flush each on PostgreSQL).
    The count is as old as the claim's batch is long (a fraction of a second), as a count taken
    just before the send would be. A row whose count cannot be taken now takes it after the claim."""
    due = _due(now)
    if action_id is not None:
        due = due.filter(pk=action_id)
    rows = list(due.values_list("pk", "case_id", "kind", "payload")[:limit])
    counted: dict[Any, Any] = {}
    for pk, case_id, kind, payload in rows:
        handler = HANDLERS[kind]
        if handler.before is None or BEFORE in payload:
            continue
        row = OutboxAction(pk=pk, case_id=case_id, kind=kind, payload=payload)
        try:
            counted[pk] = handler.before(row, client, read_backs.known(str(case_id), handler.listing))
        except Exception:
            log.info("outbox count before the claim of action=%s failed; counted after it", pk, exc_info=True)
    return [pk for pk, *_ in rows], counted


def _claim(now: datetime, action_id: str | None = None) -> OutboxAction | None:
    """Take one due row (that row, when an id is given); see _claim_batch."""
    batch = _claim_batch(now, action_id, limit=1)
    return batch[0] if batch else None


def _unclaim(actions: list[OutboxAction], now: datetime) -> None:
    """Hand back claimed rows that were never sent (the relay stopped before them)."""
    for action in actions:
        OutboxAction.objects.filter(pk=action.pk, state=State.SENDING, attempts=action.attempts).update(
            state=State.PENDING, next_attempt_at=now, updated_at=now
        )


def outbox_release_expired(*, now: datetime | None = None) -> int:
    """Rows in SENDING whose heartbeat stopped a lease ago: the worker died mid-send, so the
    outcome is unknown. They are due at once, checked before anything is sent again."""
    now = now or timezone.now()
    lease = timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS))
    expired = OutboxAction.objects.annotate(alive_at=Coalesce("heartbeat_at", "sent_at")).filter(
        state=State.SENDING, alive_at__lt=now - lease
    )
    with transaction.atomic():
        ids = list(expired.values_list("pk", flat=True))
        released = OutboxAction.objects.filter(pk__in=ids, state=State.SENDING).update(
            state=State.PENDING,
            uncertain=True,
            next_attempt_at=now,
            updated_at=now,
            last_error="The send was interrupted; Debitura will be checked before sending again.",
        )
        for pk in ids:
            transaction.on_commit(partial(_queue, str(pk)))
    if released:
        log.warning("outbox released %d rows whose worker stopped answering", released)
    return released


class Lease:
    """A claimed row this process is sending; `lost` turns True once it was taken back (its
    heartbeat had stopped for a lease), and nothing more is sent for it then."""

    def __init__(self, action: OutboxAction, now: datetime) -> None:
        self.pk, self.attempts = action.pk, action.attempts
        # Stamps count on from the claim's `now`, so a relay run at a given moment (tests, a
        # catch-up) stays consistent with itself.
        self.now, self.started = now, time.monotonic()
        self.lost = False

    def stamp(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self.started)


class _Heartbeats:
    """One thread per process renews the heartbeat of every row the process is sending.

    The thread writes on a connection of its own, so a row is only registered when its claim is
    committed (not inside a caller's transaction, as in tests). Its connection is closed after
    each round: a test database can be dropped and a server restarted in between.
    """

    def __init__(self) -> None:
        self._leases: dict[Any, Lease] = {}
        self._lock = threading.Lock()
        self._thread: tuple[int, threading.Thread] | None = None

    @contextmanager
    def hold(self, actions: list[OutboxAction], now: datetime) -> Iterator[dict[Any, Lease]]:
        """Renew these claimed rows until the block ends; their leases by primary key."""
        leases = {action.pk: Lease(action, now) for action in actions}
        if transaction.get_connection().in_atomic_block:
            yield leases
            return
        with self._lock:
            self._leases.update(leases)
            if self._thread is None or self._thread[0] != os.getpid() or not self._thread[1].is_alive():
                thread = threading.Thread(target=self._run, name="outbox-heartbeat", daemon=True)
                self._thread = (os.getpid(), thread)
                thread.start()
        try:
            yield leases
        finally:
            with self._lock:
                for pk in leases:
                    self._leases.pop(pk, None)

    def _run(self) -> None:
        while True:
            time.sleep(_setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS) / HEARTBEATS_PER_LEASE)
            with self._lock:
                leases = list(self._leases.values())
            if not leases:
                continue
            try:
                for lease in leases:
                    renewed = OutboxAction.objects.filter(
                        pk=lease.pk, state=State.SENDING, attempts=lease.attempts
                    ).update(heartbeat_at=lease.stamp())
                    lease.lost = lease.lost or not renewed
            except DatabaseError:
                log.warning("outbox heartbeat failed; trying again", exc_info=True)
            finally:
                connections.close_all()  # this thread's connections only


_heartbeats = _Heartbeats()


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


def _done(
    action: OutboxAction,
    now: datetime,
    handler: Handler,
    result: Any,
    response: Any,
    *,
    listing: Any = None,
    read_backs: ReadBacks | None = None,
) -> bool:
    with transaction.atomic():
        _done_commit_without_flush_wait()
        if not _finish(
            action, now, state=State.DONE, done_at=now, uncertain=False, last_error="", response=response
        ):
            return False
        if handler.fold is not None and handler.listing is not None:
            folded = handler.fold(action, result, listing)
            if folded is not None and read_backs is not None:
                read_backs.know(str(action.case_id), handler.listing, folded)
        if handler.confirm is not None:
            handler.confirm(action, result)
    return True


def _done_commit_without_flush_wait() -> None:
    """On PostgreSQL, let a done row's commit return before its WAL reaches the disk (one disk
    flush less per action). A server crash can then lose the DONE, never the claim or the count
    taken before the send (those commits wait): the row is sending again, is taken back after
    the lease, and the check finds the effect or the Idempotency-Key replays it; nothing is sent
    twice. The claim and the count must wait: without them a send could go out again unchecked."""
    if transaction.get_connection().vendor == "postgresql":
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


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


# What actions on one case relayed within this many seconds change is read back once.
FOLD_SECONDS = 2.0


@dataclass
class _Owed:
    since: float
    parts: set[str] = dataclasses.field(default_factory=set)
    known: dict[str, Any] = dataclasses.field(default_factory=dict)  # child -> listing as it is now


class ReadBacks:
    """What relayed actions left to read back from Debitura, folded per case: the parts each
    action changed are read once for all of the case's actions relayed within FOLD_SECONDS.
    It also keeps a child the run knows as it is now (the timeline read before a note, plus the
    note), in which the case's next note counts its look-alikes instead of reading it again."""

    def __init__(self, client: DebituraClient) -> None:
        self.client = client
        self._owed: dict[str, _Owed] = {}

    def add(self, case_id: str, parts: frozenset[str]) -> None:
        """An action on the case reached Debitura; `parts` is what it changed and must be read."""
        self._owed.setdefault(case_id, _Owed(time.monotonic())).parts.update(parts)

    def know(self, case_id: str, part: str, listing: Any) -> None:
        self._owed.setdefault(case_id, _Owed(time.monotonic())).known[part] = listing

    def known(self, case_id: str, part: str | None) -> Any:
        owed = self._owed.get(case_id)
        return owed.known.get(part) if owed is not None and part is not None else None

    def flush(self, *, older_than: float = 0.0) -> None:
        """Read back what is owed for `older_than` seconds or longer and forget what is known;
        a failure here changes nothing about the rows (the sync and the children queue bring
        the case later)."""
        moment = time.monotonic()
        due = {case_id: owed for case_id, owed in self._owed.items() if moment - owed.since >= older_than}
        if not due:
            return
        # A case whose children were never fetched shows none of them: read it whole, once.
        never = {
            str(pk)
            for pk in Case.objects.filter(pk__in=due, children_synced_at__isnull=True).values_list(
                "pk", flat=True
            )
        }
        for case_id, owed in due.items():
            del self._owed[case_id]
            parts = EVERYTHING if case_id in never else owed.parts
            try:
                if parts:
                    case_read_back(case_id=case_id, parts=parts, client=self.client)
            except Exception:
                log.warning("outbox read-back of case=%s failed", case_id, exc_info=True)


def _reads(action: OutboxAction, outcome: Outcome) -> frozenset[str]:
    """What to read back after this outcome: nothing changed at Debitura on a refusal, but the
    local copy it was checked against may be out of date, so the case is read again."""
    handler = HANDLERS[action.kind]
    if outcome is Outcome.FAILED:
        return CASE
    if outcome is Outcome.DONE and not (
        isinstance(action.response, dict) and "unreadable" in action.response
    ):
        return handler.reads
    return handler.blind if outcome in (Outcome.DONE, Outcome.FOUND) else frozenset()


def _send(
    action: OutboxAction,
    client: DebituraClient,
    now: datetime,
    lease: Lease,
    read_backs: ReadBacks,
    listing: Any = None,
) -> Outcome:
    """Check (an uncertain row), count the look-alikes (unless the claim did), send, record."""
    handler = HANDLERS[action.kind]
    try:
        if action.uncertain and handler.check is not None and handler.check(action, client):
            response = {"effectFound": True, "checkedAt": now.isoformat()}
            return Outcome.FOUND if _done(action, now, handler, None, response) else Outcome.LOST
        if handler.before is not None and BEFORE not in action.payload:
            known = read_backs.known(str(action.case_id), handler.listing)
            kept, listing = handler.before(action, client, known)
            if not _finish(action, now, payload={**action.payload, BEFORE: kept}):
                return Outcome.LOST
        if lease.lost:
            return Outcome.LOST  # taken back while we looked: its new owner sends it
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
    done = _done(action, now, handler, result, jsonable(result), listing=listing, read_backs=read_backs)
    return Outcome.DONE if done else Outcome.LOST


def _permanent(action: OutboxAction, now: datetime, handler: Handler, exc: PermanentError) -> Outcome:
    body = json_native(exc.body) if exc.body is not None else None
    if handler.already_done is not None and handler.already_done(exc):
        return Outcome.DONE if _done(action, now, handler, None, body) else Outcome.LOST
    return Outcome.FAILED if _fail(action, now, handler, exc.message, body) else Outcome.LOST


def outbox_relay_one(
    *,
    action: OutboxAction,
    client: DebituraClient,
    now: datetime | None = None,
    read_backs: ReadBacks | None = None,
    lease: Lease | None = None,
    listing: Any = None,
) -> Outcome:
    """Send one claimed (SENDING) row, record the outcome, and read back what it changed (now,
    or folded with the case's other actions when `read_backs` is given)."""
    now = now or timezone.now()
    owed = read_backs or ReadBacks(client)
    if lease is not None:
        outcome = _send(action, client, now, lease, owed, listing)
    else:
        with _heartbeats.hold([action], now) as leases:
            outcome = _send(action, client, now, leases[action.pk], owed, listing)
    log.info(
        "outbox send action=%s kind=%s case=%s attempt=%d outcome=%s",
        action.pk,
        action.kind,
        action.case_id,
        action.attempts,
        outcome,
    )
    if outcome in (Outcome.DONE, Outcome.FOUND, Outcome.FAILED):
        owed.add(str(action.case_id), _reads(action, outcome))
    if read_backs is None:
        owed.flush()
    return outcome


def outbox_relay_due(
    *,
    first_action_id: str | None = None,
    client: DebituraClient | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> RelayReport:
    """Claim and send due rows (the given one first) until none is due or `limit` were sent.

    What the actions on a case change is read back once for those relayed within FOLD_SECONDS.
    """
    client = client or get_client()
    report = RelayReport()
    read_backs = ReadBacks(client)
    outbox_release_expired(now=now)
    wanted = first_action_id
    try:
        while report.attempted < limit:
            moment = now or timezone.now()
            size = 1 if wanted else min(CLAIM_BATCH, limit - report.attempted)
            among, counted = _count_before_claim(moment, wanted, size, client, read_backs)
            batch = _claim_batch(moment, wanted, limit=size, among=among, counted=counted) if among else []
            if not batch and wanted is not None:
                wanted = None
                continue
            if not batch:
                break
            wanted = None
            with _heartbeats.hold(batch, moment) as leases:
                for number, action in enumerate(batch):
                    try:
                        outcome = outbox_relay_one(
                            action=action,
                            client=client,
                            now=moment,
                            read_backs=read_backs,
                            lease=leases[action.pk],
                            listing=counted.get(action.pk, (None, None))[1],
                        )
                    except BaseException:
                        _unclaim(batch[number + 1 :], moment)
                        raise
                    report.add(outcome)
                    read_backs.flush(older_than=FOLD_SECONDS)
    finally:
        read_backs.flush()
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
