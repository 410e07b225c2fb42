"""Typed results of the Debitura API, and the inputs that need more than a few keywords.

Amounts are Decimal, timestamps aware datetimes, lifecycle and close codes enums. Every result
is a frozen dataclass built by debitura.decoding from the response JSON; fields Debitura adds
later are ignored rather than refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self, TypeVar, cast, dataclass_transform

from debitura.decoding import RAW, DecodeError, Path, api, decode, values
from debitura.enums import ChatRole, CloseCode, CommissionPaymentStatus, Lifecycle, PaymentRecipient

T = TypeVar("T")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field, api))
def _model(cls: type[T]) -> type[T]:
    """A frozen, slotted, keyword-only dataclass (spelled once; type checkers see it as one)."""
    return dataclass(frozen=True, slots=True, kw_only=True)(cls)


class ApiModel:
    """Base of every result type: `from_api` decodes one JSON object."""

    __slots__ = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """Decode a parsed JSON object (raises debitura.decoding.DecodeError on a wrong shape)."""
        return decode(cls, data)


@_model
class BusinessError(ApiModel):
    """One entry of an error body's businessErrors."""

    type: str | None = None
    message: str | None = None
    solution_url: str | None = None


# --- Partner and team ---------------------------------------------------------------------------


@_model
class Me(ApiModel):
    """The partner profile behind the API key (GET /me)."""

    id: str
    company_name: str | None = None
    logo_url: str | None = None
    company_registration_number: str | None = None
    vat_number: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    full_address: str | None = None
    office_email: str | None = None
    office_phone: str | None = None
    invoice_email: str | None = None
    billing_contact: str | None = None
    invoice_currency: int | None = None
    commission_type: int | None = None
    pre_legal_revenue_share: Decimal | None = None
    legal_revenue_share: Decimal | None = None
    verified_profile: bool = False
    survey_cadence_mode: int | None = None


@_model
class User(ApiModel):
    """A member of the partner's team (GET /users)."""

    id: str
    name: str | None = None
    email: str | None = None


@_model
class PageInfo(ApiModel):
    """Offset paging data of a list response."""

    total_results: int = 0
    page_size: int = 0
    current_page: int = 0
    response_count: int = 0
    total_pages: int = 0

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.current_page < self.total_pages


# --- Cases --------------------------------------------------------------------------------------


@_model
class Debtor(ApiModel):
    """The party that owes the debt."""

    type: str | None = None
    name: str | None = None
    contact_person: str | None = None
    company_registration_number: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    state_alpha2: str | None = None
    country_alpha2: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None


@_model
class CreditorDivision(ApiModel):
    """A division within a creditor organisation."""

    id: str | None = None
    name: str | None = None


@_model
class Creditor(ApiModel):
    """The creditor (the partner's client on the case)."""

    id: str | None = None
    company_name: str | None = None
    company_registration_number: str | None = None
    office_email: str | None = None
    office_phone: str | None = None
    address: str | None = None
    city: str | None = None
    zip_code: str | None = None
    state: str | None = None
    country: str | None = None
    division: CreditorDivision | None = None


@_model
class CollectionPartner(ApiModel):
    """The collection partner as the case shows it."""

    name: str | None = None
    office_email: str | None = None
    office_phone: str | None = None
    public_site: str | None = None
    survey_cadence_mode: int | None = None


@_model
class BankAccount(ApiModel):
    """The creditor's bank account for payouts and debtor payment instructions."""

    id: int | None = None
    label: str | None = None
    scheme: str | None = None
    currency_code: str | None = None
    bank_country_code: str | None = None
    account_holder_name: str | None = None
    iban: str | None = None
    bic: str | None = None
    account_number: str | None = None
    local_identifier: str | None = None
    local_identifier_type: str | None = None
    bank_name: str | None = None
    bank_address: str | None = None
    bank_city: str | None = None
    bank_zip_code: str | None = None
    bank_state: str | None = None


@_model
class AssignedUser(ApiModel):
    """The creditor's team member assigned to the case."""

    email: str | None = None
    name: str | None = None


@_model
class AllocationOutstanding(ApiModel):
    """Outstanding per ledger bucket after payment allocation."""

    principal: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)
    reminder_fees: Decimal = Decimal(0)
    collection_fees: Decimal = Decimal(0)


@_model
class SigningHandoff(ApiModel):
    """Where a creditor signs pending contracts."""

    combined_signing_url: str | None = None


@_model
class Case(ApiModel):
    """A collection case (InvoiceDto), with the JSON it came from in `raw`."""

    id: str
    reference: str | None = None
    creditor_reference: str | None = None
    creditor_comments: str | None = None
    claim_description: str | None = None
    claim_type: str | None = None
    gross_amount: Decimal
    remainder: Decimal
    interest_fees: Decimal = Decimal(0)
    reminder_fees: Decimal = Decimal(0)
    collection_fees: Decimal = Decimal(0)
    total_added_fees: Decimal = Decimal(0)
    currency: str | None = None
    is_test_case: bool = False
    lifecycle: Lifecycle | None = None
    close_code: CloseCode | None = None
    current_engagement_phase: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    date: datetime | None = None
    due_date: datetime | None = None
    date_finished: datetime | None = None
    date_collection_started: datetime | None = None
    exclusive_period_end_date: datetime | None = None
    creditor_division_id: str | None = None
    debtor: Debtor | None = None
    creditor: Creditor | None = None
    collection_partner: CollectionPartner | None = None
    bank_account: BankAccount | None = None
    assigned_user: AssignedUser | None = None
    allocation_outstanding: AllocationOutstanding | None = None
    blended_age_uplift_points: Decimal | None = None
    pre_legal_success_fee: Decimal | None = None
    dispute_status: str | None = None
    needs_info: bool = api(("validation", "needsInfo"), default=False)
    solution_url: str | None = None
    signing_handoff: SigningHandoff | None = None
    # The case's JSON text as Debitura sent it, stored and hashed as it is by the sync.
    raw_json: str = api(RAW, repr=False, compare=False)

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON Debitura sent, JSON-native (floats, not Decimals) as a JSONField holds it."""
        return cast(dict[str, Any], json.loads(self.raw_json))


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFilters:
    """What GET /cases should return; `sort` is "Field[:asc|desc],..." such as "DateUpdated:desc"."""

    statuses: Sequence[Lifecycle | str] = ()
    ids: Sequence[str] = ()
    debtor_ids: Sequence[str] = ()
    division_ids: Sequence[str] = ()
    sort: str | None = None
    include_test_cases: bool = False


@_model
class CasePage(ApiModel):
    """One page of GET /cases."""

    page: PageInfo = field(default_factory=PageInfo)
    cases: tuple[Case, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseValuesPage:
    """One page of GET /cases for bulk readers: each case as the values at chosen attribute paths
    of Case (debitura.decoding.values), checked as CasePage.from_api checks them, no Case built."""

    page: PageInfo
    cases: tuple[tuple[Any, ...], ...]

    @classmethod
    def from_api(cls, data: Any, paths: tuple[Path, ...]) -> CaseValuesPage:
        """Read a parsed GET /cases answer; a wrong shape raises the DecodeError CasePage's would."""
        read = values(Case, paths)
        at: tuple[str, ...] = ()
        cases = []
        try:
            if not isinstance(data, Mapping):
                raise DecodeError(f"expected an object, got {type(data).__name__}.")
            info = data.get("page")
            page = PageInfo() if info is None else decode(PageInfo, info, "page")
            items = data.get("cases")
            if items is not None:
                at = ("cases",)
                if not isinstance(items, list):
                    raise DecodeError("expected a list.")
                for index, item in enumerate(items):
                    at = ("cases", f"[{index}]")
                    cases.append(read(item))
        except DecodeError as exc:
            exc.path[0:0] = ["CasePage", *at]
            raise
        return cls(page=page, cases=tuple(cases))


@_model
class TimelineActor(ApiModel):
    """Who did something on the timeline: "System", "Creditor user" or "Partner user"."""

    type: str | None = None
    name: str | None = None


@_model
class TimelineItem(ApiModel):
    """One event on a case's timeline (notes appear here)."""

    date: datetime | None = None
    type: str | None = None
    title: str | None = None
    description: str | None = None
    actor: TimelineActor | None = None


@_model
class Timeline(ApiModel):
    """A case's timeline, oldest first, with its engagement phase."""

    items: tuple[TimelineItem, ...] = ()
    current_engagement_phase: str | None = None


@_model
class ExclusivePeriodExtension(ApiModel):
    """An event that extended the exclusive period."""

    type: str | None = None
    event_date: datetime | None = None
    new_end_date: datetime | None = None


@_model
class ExclusivePeriod(ApiModel):
    """The partner's exclusive collection period on a case and its extensions."""

    engagement_start_date: datetime | None = None
    current_end_date: datetime | None = None
    days_remaining: int = 0
    status: str | None = None
    extensions: tuple[ExclusivePeriodExtension, ...] = ()


@_model
class CaseValidationItem(ApiModel):
    """One piece of information the creditor still has to supply."""

    resolution_area: str | None = None
    description: str | None = None


@_model
class CaseValidationStatus(ApiModel):
    """Whether a case waits for information from the creditor."""

    needs_info: bool = False
    creditor_responded_at: datetime | None = None
    items: tuple[CaseValidationItem, ...] = ()


# --- Case actions -------------------------------------------------------------------------------


@_model
class UserRef(ApiModel):
    """A Debitura user as action results name them."""

    user_id: int | None = None
    user_name: str | None = None


@_model
class StartResult(ApiModel):
    """The answer to starting (accepting) a case."""

    case_id: str
    case_reference: str | None = None
    status: Lifecycle | None = None
    activated_at: datetime | None = None
    collection_partner_reference: str | None = None


@_model
class CloseResult(ApiModel):
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


@_model
class Note(ApiModel):
    """A note added to a case (shared with the creditor)."""

    id: str | None = None
    case_reference: str | None = None
    title: str | None = None
    description: str | None = None
    visibility: str | None = None
    created_at: datetime | None = None
    event_date: datetime | None = None
    created_by: UserRef | None = None


@_model
class FeesUpdate(ApiModel):
    """The case's amounts after a fee update."""

    case_id: str | None = None
    gross_amount: Decimal
    interest_fees: Decimal
    reminder_fees: Decimal
    collection_fees: Decimal
    total_added_fees: Decimal = Decimal(0)
    recalculated_success_fee: Decimal | None = None
    remainder: Decimal


@_model
class PriceChangeConfirmation(ApiModel):
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


# --- Chat, payments, files ----------------------------------------------------------------------


@_model
class ChatUser(ApiModel):
    """The author of a chat message."""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None


@_model
class Chat(ApiModel):
    """A chat message on a case."""

    id: str
    date_created: datetime | None = None
    date_updated: datetime | None = None
    role: ChatRole | None = None
    role_label: str | None = None
    message: str | None = None
    is_seen: bool = False
    user: ChatUser | None = None


@_model
class PaymentInvoice(ApiModel):
    """The case a payment belongs to, as the payment names it."""

    invoice_id: str | None = None
    reference: str | None = None
    status: str | None = None


@_model
class Payment(ApiModel):
    """A payment recorded on a case."""

    id: str
    date: date | None = None
    gross_amount: Decimal
    recipient: str | None = None
    method: str | None = None
    currency: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    invoice: PaymentInvoice | None = None


@_model
class PaymentCreated(ApiModel):
    """The answer to recording a payment."""

    payment_id: str
    case_reference: str | None = None
    date: date | None = None
    payment_amount: Decimal
    payout_creditor: Decimal | None = None
    payout_collection_partner: Decimal | None = None
    payment_recipient: str | None = None
    commission_payment_status: str | None = None
    close_case: bool = False
    case_closed: bool = False
    close_code: CloseCode | None = None
    remaining_amount: Decimal | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentInput:
    """A payment to record or the new version of one; payouts are both given or both left out."""

    date: date
    amount: Decimal
    recipient: PaymentRecipient
    commission_status: CommissionPaymentStatus | None = None
    payout_creditor: Decimal | None = None
    payout_partner: Decimal | None = None


@_model
class CaseFile(ApiModel):
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


# --- Webhooks -----------------------------------------------------------------------------------


@_model
class Webhook(ApiModel):
    """A webhook subscription; `secret` is only present in the answer that created it."""

    id: str
    url: str | None = None
    events: tuple[str, ...] = ()
    is_active: bool = False
    is_test_mode: bool = False
    disabled_reason: str | None = None
    secret: str | None = None
    created_utc: datetime | None = None
    updated_utc: datetime | None = None


@_model
class WebhookEvent(ApiModel):
    """A recorded webhook delivery with its payload."""

    id: str
    subscription_id: str | None = None
    case_id: str | None = None
    event_type: str | None = None
    payload: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None
    attempt_count: int = 0
    last_response_code: int | None = None
    last_error: str | None = None


@_model
class ReplayResult(ApiModel):
    """Which event was re-sent to which subscription."""

    event_id: str | None = None
    subscription_id: str | None = None
    event_type: str | None = None
