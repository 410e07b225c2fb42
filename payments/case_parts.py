"""What payments adds to a case, registered with cases (cases.children) from PaymentsConfig.ready():
the payments fetched with the case's children, their count in the case page's live stamp, the
case page's payments section and the panel's "Record a payment" with its edit-and-resend values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_date

from cases.actions import case_close_check_register
from cases.children import ChildPart, PanelEntry, child_part_register, panel_entry_register
from cases.models import Case
from debitura import types
from debitura.client import DebituraClient
from payments.actions import case_close_payments_check
from payments.forms import PaymentRecordForm
from payments.models import Payment
from payments.sync import payments_replace


def case_payments_context(case: Case) -> dict[str, Any]:
    """The case page's payments (one query) and what is recorded here but not yet confirmed."""
    payments = list(case.payments.select_related("action").order_by("-date", "-id"))
    return {
        "payments": payments,
        # Recorded here and not yet confirmed by Debitura: not in its remainder yet.
        "paid_pending": sum(
            (p.amount for p in payments if p.state == Payment.State.PENDING and not p.remote_id), Decimal(0)
        ),
    }


def payment_resend_initial(payload: dict[str, Any]) -> dict[str, Any]:
    """A failed recording's values as the record form's initial data, to edit and resend."""
    money = ("amount", "payout_creditor", "payout_partner")
    initial: dict[str, Any] = {
        name: Decimal(payload[name]) for name in money if payload.get(name) is not None
    }
    initial.update(
        date=parse_date(payload.get("date") or ""),
        recipient=payload.get("recipient", ""),
        commission_status=payload.get("commission_status", ""),
        close_case=bool(payload.get("close_case")),
    )
    return initial


def _fetch(client: DebituraClient, case_id: str) -> Sequence[types.Payment]:
    return client.list_payments(case_id)


def _store(case: Case, remotes: Sequence[types.Payment], now: datetime) -> None:
    payments_replace(case=case, remotes=remotes, now=now)


def _rows() -> QuerySet[Payment]:
    return Payment.objects.all()


def _record_form(case: Case, initial: dict[str, Any]) -> PaymentRecordForm:
    return PaymentRecordForm(case=case, initial=initial)


PAYMENTS_PART = ChildPart(
    name="payments",
    fetch=_fetch,
    store=_store,
    rows=_rows,
    stamp_at="synced_at",
    case_fields=("currency",),
    page=case_payments_context,
    template="payments/_case_payments.html",
)
RECORD_ENTRY = PanelEntry(
    name="payment",
    form=_record_form,
    template="payments/_record_form.html",
    initial=payment_resend_initial,
)


def payments_register() -> None:
    """Register payments' part of a case with cases (idempotent)."""
    child_part_register(PAYMENTS_PART)
    panel_entry_register(RECORD_ENTRY)
    case_close_check_register(case_close_payments_check)
