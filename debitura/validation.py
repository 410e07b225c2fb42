"""Checks run on a request before it is sent, so a mistake costs no API call and reads clearly.

Each `check_*` function raises RequestInvalid with every offending field at once (field names
as Debitura spells them), or returns None. The limits are Debitura's documented ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePath
from urllib.parse import urlsplit

from debitura.enums import (
    FILTERABLE_LIFECYCLES,
    AdvanceTarget,
    CloseCode,
    DebtorType,
    Lifecycle,
    PaymentRecipient,
)
from debitura.errors import RequestInvalid
from debitura.types import IngestionNote, ManagedCaseInput, PaymentInput

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
ALLOWED_EXTENSIONS = frozenset(
    {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png", ".txt", ".zip", ".csv", ".eml"}
)
MAX_PARTNER_REFERENCES = 100
PAYOUT_TOLERANCE = Decimal("0.01")
MANAGED_TEXT_MAX = 4000
CREDITOR_REFERENCE_MAX = 50
TAG_MAX = 100
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A calendar date is "in the future" only once it has begun nowhere on Earth (UTC+14 is first).
_EARLIEST_TIMEZONE = timedelta(hours=14)


class Checks:
    """Collects field errors; raises them together when the `checks()` block ends."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        """Record a problem (the first one per field wins)."""
        self.errors.setdefault(field, message)

    def text(self, field: str, value: str | None, *, maximum: int, minimum: int = 0) -> None:
        """Length limits; `minimum` > 0 also makes the field required and non-blank."""
        if value is None or (minimum and not value.strip()):
            if minimum:
                self.add(field, "is required.")
            return
        if len(value) < minimum:
            self.add(field, f"must be at least {minimum} characters (it has {len(value)}).")
        elif len(value) > maximum:
            self.add(field, f"must be at most {maximum} characters (it has {len(value)}).")

    def amount(self, field: str, value: object, *, minimum: Decimal) -> None:
        """A finite Decimal no smaller than `minimum`; floats are refused outright."""
        if value is None:
            return
        if not isinstance(value, Decimal):
            self.add(field, f"must be a Decimal, not {type(value).__name__}.")
        elif not value.is_finite():
            self.add(field, "must be a finite amount.")
        elif value < minimum:
            self.add(field, f"must be at least {minimum}.")

    def past_date(self, field: str, value: date, now: datetime) -> None:
        """A calendar date that has begun somewhere already."""
        if value > (now.astimezone(UTC) + _EARLIEST_TIMEZONE).date():
            self.add(field, "must not be in the future.")

    def past_moment(self, field: str, value: datetime | None, now: datetime) -> None:
        """An aware timestamp not after `now`."""
        if value is None:
            return
        if value.tzinfo is None:
            self.add(field, "must be timezone-aware.")
        elif value > now:
            self.add(field, "must not be in the future.")

    def email(self, field: str, value: str) -> None:
        """A plausible e-mail address (Debitura checks that it belongs to the team)."""
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or any(ch.isspace() for ch in value):
            self.add(field, "must be an e-mail address.")

    def guid(self, field: str, value: str | None) -> None:
        """A Debitura id (a GUID), when given."""
        if value is not None and not _UUID.match(value):
            self.add(field, "must be a GUID.")

    def idempotency_key(self, value: str | None) -> None:
        """1..255 visible ASCII characters, as an HTTP header allows."""
        if value is None:
            return
        if not 1 <= len(value) <= 255:
            self.add("Idempotency-Key", "must be 1 to 255 characters.")
        elif not all(33 <= ord(ch) <= 126 for ch in value):
            self.add("Idempotency-Key", "may only contain visible ASCII characters.")


@contextmanager
def checks() -> Iterator[Checks]:
    """Collect field errors in the block; raise RequestInvalid at its end if there were any."""
    collected = Checks()
    yield collected
    if collected.errors:
        raise RequestInvalid(collected.errors)


def check_start(
    *,
    welcome_message: str,
    user_email: str,
    assigned_user_email: str | None,
    partner_reference: str | None,
    fees: dict[str, Decimal | None],
) -> None:
    """Accepting a case: welcome message 10..5000, reference <= 128, fees >= 0."""
    with checks() as c:
        c.text("welcomeMessage", welcome_message, minimum=10, maximum=5000)
        c.email("userEmail", user_email)
        if assigned_user_email is not None:
            c.email("assignedUserEmail", assigned_user_email)
        c.text("collectionPartnerReference", partner_reference, maximum=128)
        for field, value in fees.items():
            c.amount(field, value, minimum=Decimal(0))


def check_close(*, close_code: CloseCode, comment: str | None) -> None:
    """Closing a case: a real close code, comment <= 2000 and required with Other."""
    with checks() as c:
        if not isinstance(close_code, CloseCode) or close_code is CloseCode.UNKNOWN:
            c.add("closeCode", "must be one of Debitura's close codes.")
        if close_code is CloseCode.OTHER:
            c.text("comment", comment, minimum=1, maximum=2000)
        else:
            c.text("comment", comment, maximum=2000)


def check_note(*, description: str, event_date: datetime | None, now: datetime) -> None:
    """A note: 1..10000 characters, not dated in the future."""
    with checks() as c:
        c.text("description", description, minimum=1, maximum=10_000)
        c.past_moment("eventDate", event_date, now)


def check_chat(*, message: str, user_email: str, idempotency_key: str | None) -> None:
    """A chat message: 1..10000 characters from a team member's address."""
    with checks() as c:
        c.text("message", message, minimum=1, maximum=10_000)
        c.email("userEmail", user_email)
        c.idempotency_key(idempotency_key)


def check_payment(payment: PaymentInput, *, now: datetime, idempotency_key: str | None = None) -> None:
    """A payment: amount >= 0.01, payouts both or neither and adding up, status for creditor payments."""
    with checks() as c:
        c.past_date("date", payment.date, now)
        c.amount("paymentAmount", payment.amount, minimum=Decimal("0.01"))
        c.amount("payoutCreditor", payment.payout_creditor, minimum=Decimal(0))
        c.amount("payoutCollectionPartner", payment.payout_partner, minimum=Decimal(0))
        c.idempotency_key(idempotency_key)
        if not isinstance(payment.recipient, PaymentRecipient):
            c.add("paymentRecipient", "must be Creditor, CollectionPartner or Platform.")
        elif payment.recipient is PaymentRecipient.CREDITOR and payment.commission_status is None:
            c.add("commissionPaymentStatus", "is required when the creditor received the payment.")
        if (payment.payout_creditor is None) != (payment.payout_partner is None):
            c.add("payoutCreditor", "must be given together with payoutCollectionPartner, or neither.")
        elif payment.payout_creditor is not None and payment.payout_partner is not None and not c.errors:
            total = payment.payout_creditor + payment.payout_partner
            if abs(total - payment.amount) > PAYOUT_TOLERANCE:
                c.add(
                    "payoutCreditor", f"payouts add up to {total}, not the payment amount {payment.amount}."
                )


def check_fees(amounts: dict[str, Decimal | None]) -> None:
    """Fees (and an optional principal): Decimals >= 0."""
    with checks() as c:
        for field, value in amounts.items():
            c.amount(field, value, minimum=Decimal(0))


def check_upload(*, file_name: str, size: int | None, description: str | None) -> None:
    """A file: an allowed extension, at most 25 MB, description <= 500."""
    with checks() as c:
        extension = PurePath(file_name).suffix.lower()
        if extension not in ALLOWED_EXTENSIONS:
            allowed = " ".join(sorted(ALLOWED_EXTENSIONS))
            c.add("File", f"type {extension or '(none)'} is not accepted; allowed: {allowed}.")
        if size is not None and size > MAX_UPLOAD_BYTES:
            c.add("File", f"is {size / 1024 / 1024:.1f} MB; the limit is 25 MB.")
        c.text("Description", description, maximum=500)


def check_paging(*, page: int, page_size: int) -> None:
    """Page from 1, PageSize 1..100."""
    with checks() as c:
        if page < 1:
            c.add("Page", "must be 1 or more.")
        if not 1 <= page_size <= 100:
            c.add("PageSize", "must be between 1 and 100.")


def lifecycle_filter(statuses: Iterable[Lifecycle | str]) -> list[str]:
    """Statuses as filter names; raises RequestInvalid on one Debitura does not know."""
    names: list[str] = []
    with checks() as c:
        for status in statuses:
            member = Lifecycle.parse(status) if isinstance(status, str) else status
            if member not in FILTERABLE_LIFECYCLES:
                c.add("Statuses", f"{status!r} is not a lifecycle partners can filter on.")
            else:
                names.append(member.value)
    return names


def check_partner_references(references: list[str]) -> None:
    """1..100 references, each 1..128 characters and without commas (the list is comma-joined)."""
    with checks() as c:
        if not 1 <= len(references) <= MAX_PARTNER_REFERENCES:
            c.add("references", f"must list 1 to {MAX_PARTNER_REFERENCES} references, not {len(references)}.")
        for reference in references:
            if not reference or len(reference) > 128 or "," in reference:
                c.add("references", f"{reference!r} is not a partner reference (1..128, no comma).")


def check_reference(field: str, value: str) -> None:
    """A single look-up key: non-blank and at most 128 characters."""
    with checks() as c:
        c.text(field, value, minimum=1, maximum=128)


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_webhook(*, url: str | None, events: list[str] | None) -> None:
    """A subscription: an https URL (<= 1024; http only to localhost) and, if given, some events."""
    with checks() as c:
        if url is not None:
            parts = urlsplit(url)
            # Plain http only to this machine, where the emulator delivers to a development portal.
            local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
            if not parts.hostname or (parts.scheme != "https" and not local):
                c.add("url", "must be an https:// URL.")
            c.text("url", url, maximum=1024)
        if events is not None and not events:
            c.add("events", "must name at least one event.")


def check_ingestion(rows: list[IngestionNote], *, now: datetime, idempotency_key: str | None) -> None:
    """An ingestion job: at least one row, each a note (1..10000) for a case id, not dated ahead."""
    with checks() as c:
        c.idempotency_key(idempotency_key)
        if not rows:
            c.add("rows", "must hold at least one row.")
        for index, row in enumerate(rows):
            c.guid(f"rows[{index}].caseId", row.case_id)
            c.text(f"rows[{index}].description", row.description, minimum=1, maximum=10_000)
            c.past_moment(f"rows[{index}].eventDate", row.event_date, now)
            c.text(f"rows[{index}].externalRef", row.external_ref, maximum=255)


def check_managed_case(case: ManagedCaseInput, *, idempotency_key: str | None) -> None:
    """A case to submit: creditor and its country, currency, amount, and a debtor Debitura can route."""
    with checks() as c:
        c.idempotency_key(idempotency_key)
        c.text("creditorCompanyName", case.creditor_company_name, minimum=1, maximum=MANAGED_TEXT_MAX)
        if not (case.creditor_country_alpha2 or case.creditor_country):
            c.add("creditorCountryAlpha2", "or creditorCountry is required.")
        c.text("creditorCountryAlpha2", case.creditor_country_alpha2, maximum=2)
        if len(case.currency_code) != 3 or not case.currency_code.isalpha():
            c.add("currencyCode", "must be an ISO 4217 code such as EUR.")
        c.amount("amountToRecover", case.amount_to_recover, minimum=Decimal("0.01"))
        if case.due_date is not None and case.due_date < case.date:
            c.add("dueDate", "must not be before the invoice date.")
        c.text("comments", case.comments, maximum=MANAGED_TEXT_MAX)
        c.text("claimDescription", case.claim_description, maximum=MANAGED_TEXT_MAX)
        c.text("creditorReference", case.creditor_reference, maximum=CREDITOR_REFERENCE_MAX)
        c.text("tag", case.tag, maximum=TAG_MAX)
        c.guid("collectionPartnerId", case.collection_partner_id)
        debtor = case.debtor
        if not isinstance(debtor.type, DebtorType):
            c.add("debtor.type", "must be Company or Person.")
        c.text("debtor.name", debtor.name, minimum=1, maximum=MANAGED_TEXT_MAX)
        if debtor.type is DebtorType.COMPANY:
            c.text("debtor.contactPerson", debtor.contact_person, minimum=1, maximum=MANAGED_TEXT_MAX)
        if not (debtor.country_alpha2 or debtor.country):
            c.add("debtor.countryAlpha2", "or debtor.country is required.")
        if (debtor.country_alpha2 or "").upper() == "US" or (debtor.country or "").lower() == "united states":
            c.text("debtor.stateAlpha2", debtor.state_alpha2, minimum=1, maximum=100)


def check_tag(tag: str) -> None:
    """A test-case tag: 1..100 characters."""
    with checks() as c:
        c.text("tag", tag, minimum=1, maximum=TAG_MAX)


def check_advance(*, to: AdvanceTarget, amount: Decimal | None) -> None:
    """An advance target, with a positive Decimal amount for Closed:Paid."""
    with checks() as c:
        if not isinstance(to, AdvanceTarget):
            c.add("to", "must be Active, Closed:Paid or Closed:NoPayment.")
        if to is AdvanceTarget.CLOSED_PAID and amount is None:
            c.add("amount", "is required to advance to Closed:Paid.")
        c.amount("amount", amount, minimum=Decimal("0.01"))


def check_managed_payment(*, day: date, amount: Decimal, now: datetime) -> None:
    """A managing partner's test payment: an amount >= 0.01, not dated ahead."""
    with checks() as c:
        c.past_date("date", day, now)
        c.amount("paymentAmount", amount, minimum=Decimal("0.01"))
