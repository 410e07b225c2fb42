"""Debitura's copy of a submitted case onto its local row: what the list and the page show, the
JSON as it came (`raw`) and its hash, by which the sync tells a changed case from an unchanged one."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import msgspec
from django.utils import timezone

from debitura import types
from debitura.enums import CloseCode, Lifecycle
from debitura.types.base import convert
from managed.models import ManagedCase

# What each child of the case is read as, when the page shows it again.
CHILD_TYPES: dict[str, Any] = {
    "timeline": tuple[types.TimelineItem, ...],
    "chats": tuple[types.Chat, ...],
    "payments": tuple[types.Payment, ...],
    "files": tuple[types.CaseFile, ...],
}


def _text(value: str | None) -> str:
    return (value or "").strip()


def raw_hash(raw_json: str) -> str:
    """BLAKE2b-128 of the case's JSON text, as Debitura sent it."""
    return hashlib.blake2b(raw_json.encode(), digest_size=16).hexdigest()


def managed_row_fill(*, row: ManagedCase, case: types.Case, now: datetime | None = None) -> bool:
    """Copy Debitura's case onto the row (unsaved); False when it is the copy the row holds already."""
    digest = raw_hash(case.raw_json)
    if row.remote_id is not None and row.raw_hash == digest:
        return False
    debtor = case.debtor or types.Debtor()
    creditor = case.creditor or types.Creditor()
    partner = case.collection_partner or types.CollectionPartner()
    row.remote_id = case.id
    row.reference = _text(case.reference)
    row.creditor_reference = _text(case.creditor_reference)
    row.is_test_case = case.is_test_case
    row.lifecycle = case.lifecycle.value if isinstance(case.lifecycle, Lifecycle) else ""
    row.close_code = case.close_code.value if isinstance(case.close_code, CloseCode) else ""
    row.engagement_phase = _text(case.current_engagement_phase)
    row.currency = _text(case.currency).upper() or row.currency
    row.gross_amount = case.gross_amount
    row.remainder = case.remainder
    row.claim_date = case.date
    row.due_date = case.due_date
    row.date_created = case.date_created
    row.date_finished = case.date_finished
    row.remote_updated_at = case.date_updated or case.date_created
    row.debtor_name = _text(debtor.name)
    row.debtor_country = _text(debtor.country_alpha2).upper() or _text(debtor.country)
    row.creditor_name = _text(creditor.company_name)
    row.partner_name = _text(partner.name)
    row.search_text = " ".join(
        t.lower() for t in (row.reference, row.creditor_reference, row.debtor_name, row.creditor_name) if t
    )
    if row.submitted_at is None and case.date_created is not None:
        row.listed_at = case.date_created
    row.raw = case.raw
    row.raw_hash = digest
    row.synced_at = now or timezone.now()
    # Timeline, chat, payments and files may have changed with it: read them on the next pass.
    row.children_due = True
    return True


def children_as_json(children: Any) -> list[Any]:
    """A child listing (typed) as JSON for its column: Debitura's names, amounts as exact strings."""
    return list(msgspec.to_builtins(children, enc_hook=_encode))


def _encode(value: Any) -> Any:
    # CalendarDate (a payment's date) is a date subclass, which msgspec leaves to the caller.
    if isinstance(value, date):
        return value.isoformat()
    raise NotImplementedError(type(value))


def children_read(row: ManagedCase, name: str) -> tuple[Any, ...]:
    """A stored child listing, typed again (amounts Decimal, timestamps aware)."""
    return tuple(convert(getattr(row, name) or [], CHILD_TYPES[name]))
