"""The words for the values a case stores: lifecycle and close code choices, timeline actors and
document types as agents read them. Imported by the models, the forms and the templates' helpers;
cases.models re-exports them.
"""

from __future__ import annotations

from django.db import models

from debitura.enums import CloseCode, DocumentType, Lifecycle


class LifecycleChoices(models.TextChoices):
    """Lifecycle as stored: the API's enum names, labelled with its descriptions."""

    PENDING_VERIFICATION = Lifecycle.PENDING_VERIFICATION.value, Lifecycle.PENDING_VERIFICATION.description
    NEEDS_ADDITIONAL_DETAILS = (
        Lifecycle.NEEDS_ADDITIONAL_DETAILS.value,
        Lifecycle.NEEDS_ADDITIONAL_DETAILS.description,
    )
    LEADS = Lifecycle.LEADS.value, Lifecycle.LEADS.description
    LEADS_QUOTE_GIVEN = Lifecycle.LEADS_QUOTE_GIVEN.value, Lifecycle.LEADS_QUOTE_GIVEN.description
    ACTIVE = Lifecycle.ACTIVE.value, Lifecycle.ACTIVE.description
    PAUSED = Lifecycle.PAUSED.value, Lifecycle.PAUSED.description
    CLOSED = Lifecycle.CLOSED.value, Lifecycle.CLOSED.description
    MERGED = Lifecycle.MERGED.value, Lifecycle.MERGED.description
    UNKNOWN = Lifecycle.UNKNOWN.value, "Unknown"


class CloseCodeChoices(models.TextChoices):
    """Close codes as stored: the API's enum names, labelled with their descriptions."""

    PAID = CloseCode.PAID.value, CloseCode.PAID.description
    PARTIALLY_PAID = CloseCode.PARTIALLY_PAID.value, CloseCode.PARTIALLY_PAID.description
    DEBTOR_INSOLVENT_BANKRUPT = (
        CloseCode.DEBTOR_INSOLVENT_BANKRUPT.value,
        CloseCode.DEBTOR_INSOLVENT_BANKRUPT.description,
    )
    DEBTOR_UNTRACEABLE = CloseCode.DEBTOR_UNTRACEABLE.value, CloseCode.DEBTOR_UNTRACEABLE.description
    DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT = (
        CloseCode.DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT.value,
        CloseCode.DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT.description,
    )
    WITHDRAWN_BY_CLIENT = CloseCode.WITHDRAWN_BY_CLIENT.value, CloseCode.WITHDRAWN_BY_CLIENT.description
    PRE_LEGAL_EXHAUSTED_NO_PAYMENT = (
        CloseCode.PRE_LEGAL_EXHAUSTED_NO_PAYMENT.value,
        CloseCode.PRE_LEGAL_EXHAUSTED_NO_PAYMENT.description,
    )
    STATUTE_OF_LIMITATIONS_EXPIRED = (
        CloseCode.STATUTE_OF_LIMITATIONS_EXPIRED.value,
        CloseCode.STATUTE_OF_LIMITATIONS_EXPIRED.description,
    )
    SETTLEMENT_REJECTED_BY_CLIENT = (
        CloseCode.SETTLEMENT_REJECTED_BY_CLIENT.value,
        CloseCode.SETTLEMENT_REJECTED_BY_CLIENT.description,
    )
    UNRESPONSIVE_CLIENT = CloseCode.UNRESPONSIVE_CLIENT.value, CloseCode.UNRESPONSIVE_CLIENT.description
    UNECONOMICAL_TO_PURSUE = (
        CloseCode.UNECONOMICAL_TO_PURSUE.value,
        CloseCode.UNECONOMICAL_TO_PURSUE.description,
    )
    OTHER = CloseCode.OTHER.value, CloseCode.OTHER.description
    UNKNOWN = CloseCode.UNKNOWN.value, "Unknown"


# Who acted on a timeline entry, in the words the chat uses: Debitura's actor types (the spec's
# "Partner user", "Creditor user"; the enum names it uses elsewhere) are not for agents to read.
TIMELINE_ACTORS = {
    "Partner user": "Agency",
    "CollectionPartner": "Agency",
    "Creditor user": "Creditor",
    "Creditor": "Creditor",
}


# Debitura's upload categories (DocumentType), in words for agents.
DOCUMENT_TYPE_LABELS = {
    DocumentType.ORIGINAL_INVOICE.value: "Original invoice",
    DocumentType.DEBTOR_DOCUMENTS.value: "Debtor's documents",
    DocumentType.CREDITOR_DOCUMENTS.value: "Creditor's documents",
    DocumentType.PARTNER_DOCUMENTS.value: "Agency's documents",
    DocumentType.DEMAND_LETTER.value: "Demand letter",
    DocumentType.MISCELLANEOUS.value: "Miscellaneous",
}
