"""Debitura's enumerations, mapped both ways between request names and response descriptions.

Requests and filters use the enum name (``WithdrawnByClient``); responses carry the description
(``"Withdrawn by Client"``). Both parse to the same member; values Debitura adds later parse to
``UNKNOWN`` instead of failing, and the raw text stays on the result's ``raw`` mapping. So does
``Lifecycle("...")`` itself: any text is a member.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import Any, Self

_NON_ALNUM = re.compile(r"[^0-9a-z]")


def _squash(text: str) -> str:
    # "Withdrawn by Client", "withdrawn_by_client" and "WithdrawnByClient" all squash alike.
    return _NON_ALNUM.sub("", text.lower())


class _ApiEnum(StrEnum):
    """A StrEnum whose value is the API name, with a description form and a tolerant parser."""

    @property
    def description(self) -> str:
        """The form Debitura uses in responses, e.g. "Pending Verification"."""
        return _DESCRIPTIONS.get(self, self.value)

    @classmethod
    def parse(cls, text: str) -> Self:
        """The member for an API name or description (any case); UNKNOWN when Debitura added one."""
        member: Self | None = _lookup(cls).get(_squash(text))
        return cls["UNKNOWN"] if member is None else member

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        # Enum lookup by value falls back to parse, so results decode description forms and
        # values Debitura added later (msgspec looks members up this way).
        return cls.parse(value) if isinstance(value, str) else None


def _lookup(cls: type[_ApiEnum]) -> dict[str, Any]:
    table = _LOOKUPS.get(cls)
    if table is None:
        table = {}
        for member in cls:
            table[_squash(member.value)] = member
            table[_squash(member.description)] = member
        _LOOKUPS[cls] = table
    return table


_LOOKUPS: dict[type[_ApiEnum], dict[str, _ApiEnum]] = {}


class Lifecycle(_ApiEnum):
    """A case's lifecycle as partners see it."""

    PENDING_VERIFICATION = "PendingVerification"
    NEEDS_ADDITIONAL_DETAILS = "NeedsAdditionalDetails"
    LEADS = "Leads"
    LEADS_QUOTE_GIVEN = "LeadsQuoteGiven"
    ACTIVE = "Active"
    PAUSED = "Paused"
    CLOSED = "Closed"
    MERGED = "Merged"
    UNKNOWN = "Unknown"


class CloseCode(_ApiEnum):
    """Why a case was closed."""

    PAID = "Paid"
    PARTIALLY_PAID = "PartiallyPaid"
    DEBTOR_INSOLVENT_BANKRUPT = "DebtorInsolventBankrupt"
    DEBTOR_UNTRACEABLE = "DebtorUntraceable"
    DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT = "DisputedLegalActionDeclinedByClient"
    WITHDRAWN_BY_CLIENT = "WithdrawnByClient"
    PRE_LEGAL_EXHAUSTED_NO_PAYMENT = "PreLegalExhaustedNoPayment"
    STATUTE_OF_LIMITATIONS_EXPIRED = "StatuteOfLimitationsExpired"
    SETTLEMENT_REJECTED_BY_CLIENT = "SettlementRejectedByClient"
    UNRESPONSIVE_CLIENT = "UnresponsiveClient"
    UNECONOMICAL_TO_PURSUE = "UneconomicalToPursue"
    OTHER = "Other"
    UNKNOWN = "Unknown"


# Descriptions as Debitura renders them; parsing ignores case and punctuation, so a differently
# punctuated variant ("Debtor Insolvent/Bankrupt") still maps to the same member.
_DESCRIPTIONS: dict[_ApiEnum, str] = {
    Lifecycle.PENDING_VERIFICATION: "Pending Verification",
    Lifecycle.NEEDS_ADDITIONAL_DETAILS: "Needs Additional Details",
    Lifecycle.LEADS_QUOTE_GIVEN: "Leads Quote Given",
    CloseCode.PARTIALLY_PAID: "Partially Paid",
    CloseCode.DEBTOR_INSOLVENT_BANKRUPT: "Debtor Insolvent / Bankrupt",
    CloseCode.DEBTOR_UNTRACEABLE: "Debtor Untraceable",
    CloseCode.DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT: "Disputed - Legal Action Declined by Client",
    CloseCode.WITHDRAWN_BY_CLIENT: "Withdrawn by Client",
    CloseCode.PRE_LEGAL_EXHAUSTED_NO_PAYMENT: "Pre-legal Exhausted - No Payment",
    CloseCode.STATUTE_OF_LIMITATIONS_EXPIRED: "Statute of Limitations Expired",
    CloseCode.SETTLEMENT_REJECTED_BY_CLIENT: "Settlement Rejected by Client",
    CloseCode.UNRESPONSIVE_CLIENT: "Unresponsive Client",
    CloseCode.UNECONOMICAL_TO_PURSUE: "Uneconomical to Pursue",
}

# Filters accept every lifecycle a partner can see; UNKNOWN is ours, not Debitura's.
FILTERABLE_LIFECYCLES = frozenset(member for member in Lifecycle if member is not Lifecycle.UNKNOWN)


class PaymentRecipient(StrEnum):
    """Who received a payment."""

    CREDITOR = "Creditor"
    COLLECTION_PARTNER = "CollectionPartner"
    PLATFORM = "Platform"


class CommissionPaymentStatus(StrEnum):
    """Whether the partner's commission on a creditor-received payment was paid."""

    PAID = "Paid"
    UNPAID = "Unpaid"


class DocumentType(StrEnum):
    """Category of an uploaded case file."""

    ORIGINAL_INVOICE = "OriginalInvoice"
    DEBTOR_DOCUMENTS = "DebtorDocuments"
    CREDITOR_DOCUMENTS = "CreditorDocuments"
    PARTNER_DOCUMENTS = "PartnerDocuments"
    DEMAND_LETTER = "DemandLetter"
    MISCELLANEOUS = "Miscellaneous"


class WebhookEventType(StrEnum):
    """Events a webhook subscription can ask for."""

    CASE_ASSIGNED = "case.assigned"
    CASE_UPDATED = "case.updated"
    CASE_CLOSED = "case.closed"
    PAYMENT_CREATED = "payment.created"
    PAYMENT_DELETED = "payment.deleted"
    CHAT_CREATED = "chat.created"


class ChatRole(IntEnum):
    """Who wrote a chat message."""

    PARTNER = 0
    CREDITOR = 1
    MANAGING_PARTNER = 2
    UNKNOWN = -1

    @classmethod
    def _missing_(cls, value: object) -> ChatRole:
        return cls.UNKNOWN


class IngestionJobStatus(IntEnum):
    """Where an ingestion job is (AsyncJobStatus). The spec gives bare numbers 0..4; the names are
    ours, read from how a job behaves: queued, processing, then completed (or failed, cancelled)."""

    QUEUED = 0
    PROCESSING = 1
    COMPLETED = 2
    FAILED = 3
    CANCELLED = 4
    UNKNOWN = -1

    @classmethod
    def _missing_(cls, value: object) -> IngestionJobStatus:
        return cls.UNKNOWN


class DebtorType(StrEnum):
    """Whether a debtor is a company or a person (a company needs a contact person)."""

    COMPANY = "Company"
    PERSON = "Person"


class AdvanceTarget(StrEnum):
    """The states POST /test/cases/{id}/advance drives a test case to."""

    ACTIVE = "Active"
    CLOSED_PAID = "Closed:Paid"
    CLOSED_NO_PAYMENT = "Closed:NoPayment"
