"""What the partner's actions on a case send and get back: start, close, notes, fees, chat,
payments and files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import msgspec

from debitura.enums import ChatRole, CloseCode, CommissionPaymentStatus, Lifecycle, PaymentRecipient
from debitura.types.base import ApiStruct, AwareStruct, CalendarDate


class UserRef(ApiStruct):
    """A Debitura user as action results name them."""

    user_id: int | None = None
    user_name: str | None = None


class StartResult(AwareStruct):
    """The answer to starting (accepting) a case."""

    case_id: str
    case_reference: str | None = None
    status: Lifecycle | None = None
    activated_at: datetime | None = None
    collection_partner_reference: str | None = None


class CloseResult(AwareStruct):
    """The answer to closing a case."""

    case_reference: str | None = None
    close_code: CloseCode | None = None
    close_code_description: str | None = None
    comment: str | None = None
    closed_at: datetime | None = None
    closed_by: UserRef | None = None
    final_outstanding_amount: Decimal = Decimal(0)
    total_payments: Decimal = Decimal(0)
    total_recovered: Decimal = Decimal(0)


class Note(AwareStruct):
    """A note added to a case (shared with the creditor)."""

    id: str | None = None
    case_reference: str | None = None
    title: str | None = None
    description: str | None = None
    visibility: str | None = None
    created_at: datetime | None = None
    event_date: datetime | None = None
    created_by: UserRef | None = None


class FeesUpdate(ApiStruct, kw_only=True):
    """The case's amounts after a fee update."""

    case_id: str | None = None
    gross_amount: Decimal
    interest_fees: Decimal
    reminder_fees: Decimal
    collection_fees: Decimal
    total_added_fees: Decimal = Decimal(0)
    recalculated_success_fee: Decimal | None = None
    remainder: Decimal


class PriceChangeConfirmation(ApiStruct):
    """Debitura's request to confirm a success-fee change before a principal edit applies."""

    case_id: str | None = None
    confirmation_required: bool = True
    is_intentional_rate: bool = False
    current_success_fee: Decimal | None = None
    proposed_success_fee: Decimal | None = None
    warning: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class FeesResult:
    """Either the applied fee update or the price change that must be confirmed first."""

    updated: FeesUpdate | None = None
    confirmation: PriceChangeConfirmation | None = None

    @property
    def confirmation_required(self) -> bool:
        """True when nothing was applied: resend with confirm_price_change or keep_intentional_rate."""
        return self.confirmation is not None


class ChatUser(AwareStruct):
    """The author of a chat message."""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None


class Chat(AwareStruct):
    """A chat message on a case."""

    id: str
    date_created: datetime | None = None
    date_updated: datetime | None = None
    role: ChatRole | None = None
    role_label: str | None = None
    message: str | None = None
    is_seen: bool = False
    user: ChatUser | None = None


class PaymentInvoice(ApiStruct):
    """The case a payment belongs to, as the payment names it."""

    invoice_id: str | None = None
    reference: str | None = None
    status: str | None = None


class Payment(AwareStruct, kw_only=True):
    """A payment recorded on a case."""

    id: str
    date: CalendarDate | None = None
    gross_amount: Decimal
    recipient: str | None = None
    method: str | None = None
    currency: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    invoice: PaymentInvoice | None = None


class PaymentCreated(ApiStruct, kw_only=True):
    """The answer to recording a payment."""

    payment_id: str
    case_reference: str | None = None
    date: CalendarDate | None = None
    payment_amount: Decimal
    payout_creditor: Decimal | None = None
    payout_collection_partner: Decimal | None = None
    payment_recipient: str | None = None
    commission_payment_status: str | None = None
    close_case: bool = False
    case_closed: bool = False
    close_code: CloseCode | None = None
    remaining_amount: Decimal | None = None
    warnings_or_none: tuple[str, ...] | None = msgspec.field(default=(), name="warnings")

    @property
    def warnings(self) -> tuple[str, ...]:
        """Debitura's non-blocking warnings about the payment."""
        return self.warnings_or_none or ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentInput:
    """A payment to record or the new version of one; payouts are both given or both left out."""

    date: date
    amount: Decimal
    recipient: PaymentRecipient
    commission_status: CommissionPaymentStatus | None = None
    payout_creditor: Decimal | None = None
    payout_partner: Decimal | None = None


class CaseFile(AwareStruct):
    """A document on a case; `url` is a signed link that expires after about an hour."""

    id: str
    case_id: str | None = None
    file_name: str | None = None
    url: str | None = None
    description: str | None = None
    document_type: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
