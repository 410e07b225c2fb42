"""A case as Debitura sends it, pages of cases, and what is read about one case beside it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self, cast

import msgspec

from debitura.enums import CloseCode, Lifecycle
from debitura.types.base import ApiStruct, AwareStruct, attributes, decode
from debitura.types.partner import PageInfo

# Parsed JSON written back as JSON text, Decimals as the number literals they came from.
_encode = msgspec.json.Encoder(decimal_format="number").encode


class Debtor(ApiStruct):
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


class CreditorDivision(ApiStruct):
    """A division within a creditor organisation."""

    id: str | None = None
    name: str | None = None


class Creditor(ApiStruct):
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


class CollectionPartner(ApiStruct):
    """The collection partner as the case shows it."""

    name: str | None = None
    office_email: str | None = None
    office_phone: str | None = None
    public_site: str | None = None
    survey_cadence_mode: int | None = None


class BankAccount(ApiStruct):
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


class AssignedUser(ApiStruct):
    """The creditor's team member assigned to the case."""

    email: str | None = None
    name: str | None = None


class AllocationOutstanding(ApiStruct):
    """Outstanding per ledger bucket after payment allocation."""

    principal: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)
    reminder_fees: Decimal = Decimal(0)
    collection_fees: Decimal = Decimal(0)


class SigningHandoff(ApiStruct):
    """Where a creditor signs pending contracts."""

    combined_signing_url: str | None = None


class CaseValidationFlag(ApiStruct):
    """The case's `validation` object: whether it waits for information from the creditor."""

    needs_info: bool = False


class Case(AwareStruct, kw_only=True):
    """A collection case (InvoiceDto), with the JSON text it came in as `raw_json`."""

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
    validation: CaseValidationFlag | None = None
    solution_url: str | None = None
    signing_handoff: SigningHandoff | None = None
    # The case's JSON text as Debitura sent it, stored and hashed as it is by the sync. Set after
    # decoding (`from_json`); the key is one Debitura cannot send, so no answer fills it.
    raw_json: str = msgspec.field(default="", name="$raw")

    @property
    def needs_info(self) -> bool:
        """Whether the case waits for information from the creditor."""
        return self.validation is not None and self.validation.needs_info

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON Debitura sent, JSON-native (floats, not Decimals) as a JSONField holds it."""
        return cast(dict[str, Any], json.loads(self.raw_json))

    @classmethod
    def from_json(cls, content: bytes | msgspec.Raw, at: tuple[str, ...] = ()) -> Self:
        """A case from its JSON text, which it keeps in `raw_json`."""
        case: Self = decode(content, cls, at=at)
        msgspec.structs.force_setattr(case, "raw_json", bytes(content).strip().decode())
        return case

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """A case from parsed JSON; `raw_json` is that JSON written compactly."""
        return cls.from_json(_encode(data))


def cases_from_json(content: bytes) -> dict[str, Case]:
    """A JSON object of cases (such as by partner reference) as a dict, each keeping its JSON text."""
    listed: dict[str, msgspec.Raw] = decode(content, dict[str, msgspec.Raw], at=("Case",))
    return {key: Case.from_json(raw, ("Case", key)) for key, raw in listed.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFilters:
    """What GET /cases should return; `sort` is "Field[:asc|desc],..." such as "DateUpdated:desc"."""

    statuses: Sequence[Lifecycle | str] = ()
    ids: Sequence[str] = ()
    debtor_ids: Sequence[str] = ()
    division_ids: Sequence[str] = ()
    sort: str | None = None
    include_test_cases: bool = False


class _CaseListing(ApiStruct):
    """GET /cases as sent, each case left as its JSON text until it is decoded on its own."""

    page: PageInfo | None = None
    cases: tuple[msgspec.Raw, ...] | None = None


class CasePage(ApiStruct):
    """One page of GET /cases."""

    page: PageInfo = msgspec.field(default_factory=PageInfo)
    cases: tuple[Case, ...] = ()

    @classmethod
    def from_json(cls, content: bytes | msgspec.Raw) -> Self:
        """A page from its JSON text; each case keeps the text it came in."""
        listing: _CaseListing = decode(content, _CaseListing, at=("CasePage",))
        cases = tuple(
            Case.from_json(raw, ("CasePage", "cases", f"[{index}]"))
            for index, raw in enumerate(listing.cases or ())
        )
        return cls(page=listing.page or PageInfo(), cases=cases)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """A page from parsed JSON."""
        return cls.from_json(_encode(data))


@dataclass(frozen=True, slots=True)
class CaseValuesPage:
    """One page of GET /cases for bulk readers: each case as its attributes at chosen paths."""

    page: PageInfo
    cases: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, page: CasePage, paths: tuple[tuple[str, ...], ...]) -> CaseValuesPage:
        """The values at attribute `paths` (such as ("debtor", "name")) of every case on `page`."""
        read = attributes(paths)
        return cls(page=page.page, cases=tuple(read(case) for case in page.cases))


class TimelineActor(ApiStruct):
    """Who did something on the timeline: "System", "Creditor user" or "Partner user"."""

    type: str | None = None
    name: str | None = None


class TimelineItem(AwareStruct):
    """One event on a case's timeline (notes appear here)."""

    date: datetime | None = None
    type: str | None = None
    title: str | None = None
    description: str | None = None
    actor: TimelineActor | None = None


class Timeline(ApiStruct):
    """A case's timeline, oldest first, with its engagement phase."""

    items_or_none: tuple[TimelineItem, ...] | None = msgspec.field(default=(), name="items")
    current_engagement_phase: str | None = None

    @property
    def items(self) -> tuple[TimelineItem, ...]:
        """The events, oldest first."""
        return self.items_or_none or ()


class ExclusivePeriodExtension(AwareStruct):
    """An event that extended the exclusive period."""

    type: str | None = None
    event_date: datetime | None = None
    new_end_date: datetime | None = None


class ExclusivePeriod(AwareStruct):
    """The partner's exclusive collection period on a case and its extensions."""

    engagement_start_date: datetime | None = None
    current_end_date: datetime | None = None
    days_remaining: int = 0
    status: str | None = None
    extensions_or_none: tuple[ExclusivePeriodExtension, ...] | None = msgspec.field(
        default=(), name="extensions"
    )

    @property
    def extensions(self) -> tuple[ExclusivePeriodExtension, ...]:
        """The extensions, in the order Debitura lists them."""
        return self.extensions_or_none or ()


class CaseValidationItem(ApiStruct):
    """One piece of information the creditor still has to supply."""

    resolution_area: str | None = None
    description: str | None = None


class CaseValidationStatus(AwareStruct):
    """Whether a case waits for information from the creditor."""

    needs_info: bool = False
    creditor_responded_at: datetime | None = None
    items_or_none: tuple[CaseValidationItem, ...] | None = msgspec.field(default=(), name="items")

    @property
    def items(self) -> tuple[CaseValidationItem, ...]:
        """What the creditor still has to supply."""
        return self.items_or_none or ()
