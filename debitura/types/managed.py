"""Cases the partner submits as managing partner (POST /managed-cases) and their test payments.

Reads of a managed case give the same shapes as the partner's own cases (Case, Timeline, Chat,
Payment, CaseFile); what is new is what goes in and the managing partner's payment answer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec

from debitura.enums import DebtorType
from debitura.serialization import format_date
from debitura.types.base import ApiStruct, CalendarDate


class ManagedDebtor(msgspec.Struct, frozen=True, kw_only=True):
    """The debtor of a submitted case: a company needs a contact person, a US debtor a state."""

    type: DebtorType
    name: str
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

    def to_api(self) -> dict[str, Any]:
        """DebtorDto JSON."""
        return {
            "type": self.type.value if isinstance(self.type, DebtorType) else self.type,
            "name": self.name,
            "contactPerson": self.contact_person,
            "companyRegistrationNumber": self.company_registration_number,
            "address": self.address,
            "zipCode": self.zip_code,
            "city": self.city,
            "state": self.state,
            "stateAlpha2": self.state_alpha2,
            "countryAlpha2": self.country_alpha2,
            "country": self.country,
            "email": self.email,
            "phone": self.phone,
        }


class ManagedCaseInput(msgspec.Struct, frozen=True, kw_only=True):
    """A case to submit for a client (or the agency itself); `is_test` with a `tag` for test runs."""

    creditor_company_name: str
    currency_code: str
    date: dt.date
    amount_to_recover: Decimal
    debtor: ManagedDebtor
    creditor_country_alpha2: str | None = None
    creditor_country: str | None = None
    due_date: dt.date | None = None
    comments: str | None = None
    claim_description: str | None = None
    creditor_reference: str | None = None
    is_test: bool = False
    tag: str | None = None
    collection_partner_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        """CreateManagedCaseRequest JSON."""
        return {
            "creditorCompanyName": self.creditor_company_name,
            "creditorCountryAlpha2": self.creditor_country_alpha2,
            "creditorCountry": self.creditor_country,
            "currencyCode": self.currency_code,
            "date": format_date(self.date),
            "dueDate": format_date(self.due_date) if self.due_date else None,
            "comments": self.comments,
            "claimDescription": self.claim_description,
            "creditorReference": self.creditor_reference,
            "debtor": {key: value for key, value in self.debtor.to_api().items() if value is not None},
            "amountToRecover": self.amount_to_recover,
            "isTest": self.is_test,
            "tag": self.tag,
            "collectionPartnerId": self.collection_partner_id,
        }


class ManagedPaymentCreated(ApiStruct, kw_only=True):
    """The answer to a managing partner's payment on a test case."""

    payment_id: str
    case_reference: str | None = None
    date: CalendarDate | None = None
    payment_amount: Decimal
    case_closed: bool = False
    remaining_amount: Decimal | None = None
