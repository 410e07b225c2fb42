"""How the actions on a case reach Debitura (accept, decline, close, note, chat, fees): for each
kind, the outbox handler that sends it, looks for its effect after an unclear failure, and
confirms or undoes the optimistic change; and the read-back of what any relayed action changed
(the case and its children). Registered with the outbox by CasesConfig.ready(). The handlers of
payments are in payments/handlers.py, the upload's in documents/handlers.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.models import Case, ChatMessage, TimelineItem
from cases.references import case_reference_give, case_reference_take_back
from cases.sync import CHILD_PARTS, case_read_back, chat_store
from debitura.client import DebituraClient
from debitura.enums import CloseCode, Lifecycle
from debitura.errors import NotFound
from debitura.types import Chat, Note, Timeline, TimelineActor
from debitura.types import TimelineItem as TimelineEntry
from outbox.models import OutboxAction
from outbox.registry import (
    BEFORE,
    Handler,
    NeedsConsent,
    ReadBack,
    handler_register,
    jsonable,
    read_back_register,
)
from partnerportal.money import same_amount

log = logging.getLogger(__name__)

Kind = OutboxAction.Kind


# --- Senders: one small function per kind, returning Debitura's answer --------------------------


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


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
    case_reference_take_back(
        case_id=action.case_id,
        reference=action.payload.get("partner_reference") or "",
        reason="Accept cancelled" if cancelled else "Debitura refused the accept",
    )


def _redo_accept(action: OutboxAction) -> None:
    case_reference_give(
        case_id=action.case_id,
        reference=action.payload.get("partner_reference") or "",
        actor=action.actor,
        reason="The accept was sent again",
    )


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
        p.get(name) in (None, "") or same_amount(Decimal(p[name]), value, case.currency)
        for name, value in remote.items()
    )


# --- Local consequences: confirm or roll back the optimistic change ------------------------------


def _fold_note(action: OutboxAction, result: Any, listing: Timeline | None) -> Timeline | None:
    """The note joins the local timeline as Debitura's answer describes it; returns the timeline
    as Debitura lists it now (the one read before the send, with the note), None without one."""
    if not isinstance(result, Note) or action.case_id is None:
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
    items = tuple(sorted([*listing.items, ours], key=lambda entry: entry.date or when))
    return msgspec.structs.replace(listing, items_or_none=items)


def _confirm_chat(action: OutboxAction, result: Any) -> None:
    """The message joins the local chat as Debitura answered it (never taken from another case)."""
    if (
        isinstance(result, Chat)
        and action.case is not None
        and not ChatMessage.objects.filter(id=result.id).exclude(case_id=action.case.pk).exists()
    ):
        chat_store(case=action.case, remote=result)


# What an action has read back (cases_read_back): the case row and its children (CHILD_PARTS).
CASE = frozenset({"case"})
EVERYTHING = frozenset({"case", *CHILD_PARTS})

CASE_HANDLERS: dict[str, Handler] = {
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
}


# --- Reading back what the actions changed -------------------------------------------------------


def cases_read_back(owed: Mapping[str, frozenset[str]], client: DebituraClient) -> None:
    """Read again what relayed actions changed, case by case: the parts each case is owed ("case"
    and CHILD_PARTS). A failure is logged and leaves the case to the sync and the children queue."""
    # A case whose children were never fetched shows none of them: read it whole, once.
    never = {
        str(pk)
        for pk in Case.objects.filter(pk__in=owed, children_synced_at__isnull=True).values_list(
            "pk", flat=True
        )
    }
    for case_id, parts in owed.items():
        wanted = EVERYTHING if case_id in never else parts
        try:
            if wanted:
                case_read_back(case_id=case_id, parts=wanted, client=client)
        except Exception:
            log.warning("outbox read-back of case=%s failed", case_id, exc_info=True)


def handlers_register() -> None:
    """Hand the outbox the handlers of the actions on cases, and the cases' read-back."""
    read_back_register(read_back=ReadBack(cases_read_back, refused=CASE))
    for kind, handler in CASE_HANDLERS.items():
        handler_register(kind=kind, handler=handler)
