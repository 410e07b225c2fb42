"""The emulator's in-memory domain: cases and everything hanging off them.

Amounts are Decimal, dates timezone-aware UTC. Enum-like values are kept in their API *name*
form ("PendingVerification", "WithdrawnByClient"); responses use the description form.

About 400 lines on purpose: the enum tables and the dataclasses that use them are the spec's
schemas side by side, and a reader comparing them with the spec wants one file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Filter names in the order Debitura's enum declares them (Lifecycle sorts by this order).
LIFECYCLES: dict[str, str] = {
    "PendingContractSigning": "Pending Contract Signing",
    "PendingVerificationInternal": "Pending Verification Internal",
    "PendingVerification": "Pending Verification",
    "NeedsAdditionalDetails": "Needs Additional Details",
    "Leads": "Leads",
    "LeadsQuoteGiven": "Leads Quote Given",
    "Active": "Active",
    "Paused": "Paused",
    "Closed": "Closed",
    "Merged": "Merged",
}

CLOSE_CODES: dict[str, str] = {
    "Paid": "Paid",
    "PartiallyPaid": "Partially Paid",
    "DebtorInsolventBankrupt": "Debtor Insolvent / Bankrupt",
    "DebtorUntraceable": "Debtor Untraceable",
    "DisputedLegalActionDeclinedByClient": "Disputed - Legal Action Declined by Client",
    "WithdrawnByClient": "Withdrawn by Client",
    "PreLegalExhaustedNoPayment": "Pre-legal Exhausted - No Payment",
    "StatuteOfLimitationsExpired": "Statute of Limitations Expired",
    "SettlementRejectedByClient": "Settlement Rejected by Client",
    "UnresponsiveClient": "Unresponsive Client",
    "UneconomicalToPursue": "Uneconomical to Pursue",
    "Other": "Other",
}

STANDARD_CLAIM_TYPES = ("Unpaid Invoice", "Loan Repayment")
DISPUTED = "Yes, the claim is disputed"
NOT_DISPUTED = "No, the claim is not disputed"
DISPUTE_UNKNOWN = "Don't Know"

PAYMENT_RECIPIENTS = ("Creditor", "CollectionPartner", "Platform")
COMMISSION_STATUSES = ("Paid", "Unpaid")
DOCUMENT_TYPES = (
    "OriginalInvoice",
    "DebtorDocuments",
    "CreditorDocuments",
    "PartnerDocuments",
    "DemandLetter",
    "Miscellaneous",
)
WEBHOOK_EVENTS = (
    "case.assigned",
    "case.updated",
    "case.closed",
    "payment.created",
    "payment.deleted",
    "chat.created",
)
CHAT_ROLE_LABELS = {0: "Partner", 1: "Creditor", 2: "Managed by partner"}

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Any, currency: str = "EUR") -> Decimal:
    """An amount rounded to cents, or to whole units for a currency without a minor unit (JPY).

    Amounts a client sends are kept to the cent whatever the currency (the emulator must not
    change what it was told); only amounts it computes or invents follow the currency.
    """
    exponent = Decimal("1") if currency == "JPY" else CENT
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, clamped to the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


@dataclass
class User:
    """A member of the partner's team; `number` is the integer id chat and notes expose."""

    id: str
    number: int
    first_name: str
    last_name: str
    email: str
    date_created: datetime
    active: bool = True

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Partner:
    """The collection partner that owns the API key (GET /me)."""

    id: str
    company_name: str
    registration_number: str
    vat_number: str
    address: str
    zip_code: str
    city: str
    country: str
    office_email: str
    office_phone: str
    public_site: str
    pre_legal_revenue_share: Decimal
    legal_revenue_share: Decimal
    reference_prefix: str


@dataclass
class Division:
    """A creditor's division (cases can be filtered by it)."""

    id: str
    name: str


@dataclass
class Creditor:
    """The client who owns the debt."""

    id: str
    company_name: str
    registration_number: str
    office_email: str
    office_phone: str
    address: str
    city: str
    zip_code: str
    state: str | None
    country: str
    contact_first_name: str
    contact_last_name: str
    contact_number: int
    divisions: list[Division] = field(default_factory=list)


@dataclass
class Debtor:
    """The party that owes; `id` is internal (the DTO has none) and backs the DebtorIds filter."""

    id: str
    type: str
    name: str
    contact_person: str | None
    registration_number: str | None
    address: str
    zip_code: str
    city: str
    state: str | None
    state_alpha2: str | None
    country_alpha2: str
    country: str
    email: str | None
    phone: str | None


@dataclass
class BankAccount:
    """The creditor's account the debtor pays into."""

    id: int
    label: str
    scheme: str
    currency: str
    country_alpha2: str
    holder: str
    iban: str | None
    bic: str | None
    account_number: str | None
    bank_name: str
    bank_city: str


@dataclass
class Payment:
    """A payment recorded on a case; `platform_share` is Debitura's cut of the partner's commission."""

    id: str
    case_id: str
    date: datetime
    amount: Decimal
    payout_creditor: Decimal
    payout_partner: Decimal
    platform_share: Decimal
    recipient: str
    commission_status: str
    date_created: datetime
    date_updated: datetime | None = None
    method: str = "Bank Transfer"
    invoiced: bool = False


@dataclass
class Chat:
    """A chat message; role 0 partner, 1 creditor, 2 managing partner."""

    id: str
    case_id: str
    date_created: datetime
    role: int
    message: str
    is_seen: bool
    user_number: int
    user_first_name: str
    user_last_name: str
    user_email: str
    user_date_created: datetime

    @classmethod
    def written(
        cls,
        chat_id: str,
        case: Case,
        when: datetime,
        role: int,
        message: str,
        user: User | None,
        *,
        seen: bool,
    ) -> Chat:
        """A message by a team member, or by the creditor's contact when `user` is None."""
        creditor = case.creditor
        return cls(
            id=chat_id,
            case_id=case.id,
            date_created=when,
            role=role,
            message=message,
            is_seen=seen,
            user_number=user.number if user else creditor.contact_number,
            user_first_name=user.first_name if user else creditor.contact_first_name,
            user_last_name=user.last_name if user else creditor.contact_last_name,
            user_email=user.email if user else creditor.office_email,
            user_date_created=user.date_created if user else case.date_created,
        )


@dataclass
class CaseFile:
    """An uploaded document; the bytes are kept so tests can hash what they download."""

    id: str
    case_id: str
    file_name: str
    document_type: str | None
    description: str | None
    content: bytes
    date_created: datetime


@dataclass
class TimelineItem:
    """One entry of GET /cases/{id}/timeline."""

    date: datetime
    type: str
    title: str
    description: str
    actor_type: str
    actor_name: str | None


@dataclass
class Note:
    """A note posted through the API (read back only through the timeline)."""

    id: str
    case_id: str
    description: str
    created_at: datetime
    event_date: datetime | None
    user_number: int
    user_name: str


@dataclass
class Extension:
    """One extension of an exclusive period (promise to pay, payment agreement, payment)."""

    type: str
    event_date: datetime
    new_end_date: datetime


@dataclass
class ExclusivePeriod:
    """The partner's exclusive collection period: 6 months from acceptance plus extensions."""

    start: datetime
    end: datetime
    terminated: bool = False
    extensions: list[Extension] = field(default_factory=list)

    # A promise to pay, a payment agreement or a payment extends the period by 12 months from it.
    EXTENSION_MONTHS = 12

    def extend(self, kind: str, when: datetime) -> None:
        if self.terminated:
            return
        new_end = max(self.end, add_months(when, self.EXTENSION_MONTHS))
        self.extensions.append(Extension(kind, when, new_end))
        self.end = new_end


@dataclass
class ValidationItem:
    """Something the creditor must still supply before the case can be worked."""

    resolution_area: str
    description: str


@dataclass(eq=False)
class Case:
    """A collection case assigned to the partner (Debitura's InvoiceDto)."""

    id: str
    reference: str
    creditor: Creditor
    division: Division | None
    debtor: Debtor
    bank_account: BankAccount
    creditor_reference: str
    creditor_comments: str | None
    claim_description: str
    claim_type: str
    dispute_status: str | None
    currency: str
    gross_amount: Decimal
    interest_fees: Decimal
    reminder_fees: Decimal
    collection_fees: Decimal
    date: datetime
    due_date: datetime
    date_created: datetime
    date_updated: datetime
    lifecycle: str
    success_fee: Decimal | None
    age_uplift: Decimal = ZERO
    multi_invoice: bool = False
    intentional_rate: bool = False
    is_test: bool = False
    # POST /managed-cases: the caller is the managing partner; `tag` groups test cases for deletion;
    # `collector` is the network partner collecting it (None: the caller itself).
    managed: bool = False
    tag: str | None = None
    collector: Partner | None = None
    engagement_phase: str | None = None
    close_code: str | None = None
    close_comment: str | None = None
    date_finished: datetime | None = None
    date_collection_started: datetime | None = None
    partner_reference: str | None = None
    assigned_user_id: str | None = None
    merged_into: str | None = None
    exclusive: ExclusivePeriod | None = None
    validation_items: list[ValidationItem] = field(default_factory=list)
    creditor_responded_at: datetime | None = None
    payments: list[Payment] = field(default_factory=list)
    deleted_payments: list[Payment] = field(default_factory=list)
    chats: list[Chat] = field(default_factory=list)
    files: list[CaseFile] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    # The serialised InvoiceDto, rebuilt lazily after a change: GET /cases joins these bytes.
    cached_json: bytes | None = field(default=None, repr=False)

    @property
    def total_fees(self) -> Decimal:
        return self.interest_fees + self.reminder_fees + self.collection_fees

    @property
    def outstanding(self) -> Decimal:
        """Gross amount plus fees: what the debtor owes before payments."""
        return self.gross_amount + self.total_fees

    @property
    def total_payments(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def remainder(self) -> Decimal:
        return self.outstanding - self.total_payments

    @property
    def needs_custom_terms(self) -> bool:
        """Claims outside the standard pre-legal scope must be negotiated at Debitura."""
        return self.claim_type not in STANDARD_CLAIM_TYPES or self.dispute_status == DISPUTED

    @property
    def needs_info(self) -> bool:
        return bool(self.validation_items)
