"""Payments seen from the agency: the split estimate, the guards before recording, and the ledger.

Recording, correcting and deleting are outbox actions (payments/actions.py: payment_record,
payment_correct, payment_delete); this module holds what the payment pages compute around them.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from cases.models import Case
from debitura.client import DebituraClient, get_client
from debitura.errors import DebituraError
from outbox.models import OutboxAction
from partnerportal.money import amount_as_written, money_round, money_text
from partnerportal.spreadsheet import spreadsheet_text
from payments.filters import LedgerFilterSet
from payments.models import Payment

log = logging.getLogger(__name__)

# Debitura's documented defaults for exclusive partners (API-NOTES): used only while GET /me fails.
DEFAULT_PRE_LEGAL_SHARE = Decimal("0.40")
DEFAULT_LEGAL_SHARE = Decimal("0.20")
SHARES_CACHE_KEY = "payments:revenue-shares"
# The revenue share is a contract term: it changes rarely, and a stale value only moves an estimate.
SHARES_SECONDS = 6 * 3600
SHARES_FAILED_SECONDS = 300
LEGAL_PHASES = frozenset({"Legal", "Enforcement"})
DUPLICATE_WINDOW_DAYS = 7


# --- Revenue share (GET /me) -------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueShares:
    """The share of the agency's fee that Debitura keeps, by phase; `known` is False on defaults."""

    pre_legal: Decimal
    legal: Decimal
    known: bool = True

    def for_phase(self, phase: str) -> Decimal:
        return self.legal if phase in LEGAL_PHASES else self.pre_legal


def partner_revenue_shares(*, client: DebituraClient | None = None) -> RevenueShares:
    """The partner's revenue shares from GET /me, kept in the cache for hours (defaults if it fails)."""
    cached = cache.get(SHARES_CACHE_KEY)
    if isinstance(cached, RevenueShares):
        return cached
    try:
        me = (client or get_client()).get_me()
    except DebituraError as exc:
        log.warning("GET /me failed, using the default revenue shares: %s", exc)
        shares = RevenueShares(DEFAULT_PRE_LEGAL_SHARE, DEFAULT_LEGAL_SHARE, known=False)
        cache.set(SHARES_CACHE_KEY, shares, SHARES_FAILED_SECONDS)
        return shares
    shares = RevenueShares(
        pre_legal=me.pre_legal_revenue_share
        if me.pre_legal_revenue_share is not None
        else DEFAULT_PRE_LEGAL_SHARE,
        legal=me.legal_revenue_share if me.legal_revenue_share is not None else DEFAULT_LEGAL_SHARE,
        known=me.pre_legal_revenue_share is not None and me.legal_revenue_share is not None,
    )
    cache.set(SHARES_CACHE_KEY, shares, SHARES_SECONDS)
    return shares


# --- The split estimate ------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitPreview:
    """What Debitura will compute for a payment, estimated from the local copy."""

    currency: str
    amount: Decimal
    remainder_before: Decimal
    remainder_after: Decimal
    creditor: Decimal | None  # None: the case's success fee is not known here
    agency_fee: Decimal | None
    debitura_share: Decimal | None
    agency_keeps: Decimal | None
    success_fee: Decimal | None
    revenue_share: Decimal
    revenue_share_known: bool
    explicit: bool  # the agent overrode the split
    settles: bool

    @property
    def over_remainder(self) -> bool:
        return self.amount > self.remainder_before

    @property
    def revenue_share_percent(self) -> str:
        return f"{(self.revenue_share * 100).normalize():f} %"

    @property
    def success_fee_percent(self) -> str:
        return f"{self.success_fee.normalize():f} %" if self.success_fee is not None else ""


def payment_remainder(*, case: Case) -> Decimal:
    """The case's remainder counting the agency's payments still on their way to Debitura."""
    remainder = case.remainder
    on_the_way = Payment.objects.filter(case=case).filter(
        Q(
            state=Payment.State.PENDING,
            action__kind__in=(OutboxAction.Kind.PAYMENT_CREATE, OutboxAction.Kind.PAYMENT_UPDATE),
        )
        | Q(state=Payment.State.DELETING)
    )
    for state, amount, kind, payload in on_the_way.values_list(
        "state", "amount", "action__kind", "action__payload"
    ):
        if state == Payment.State.DELETING:
            remainder += amount
        elif kind == OutboxAction.Kind.PAYMENT_UPDATE:
            # A correction moves the remainder by the difference from what Debitura has now.
            previous = (payload or {}).get("previous", {}).get("amount")
            remainder -= amount - Decimal(previous) if previous is not None else 0
        else:
            remainder -= amount
    return remainder


def payment_split_preview(
    *,
    case: Case,
    amount: Decimal,
    shares: RevenueShares,
    remainder: Decimal | None = None,
    payout_creditor: Decimal | None = None,
    payout_partner: Decimal | None = None,
) -> SplitPreview:
    """The split Debitura computes: the agency's fee is amount x success fee, the creditor the rest,
    and Debitura keeps its revenue share of the agency's fee (taken afterwards, not from the split)."""
    currency = case.currency
    before = case.remainder if remainder is None else remainder
    share = shares.for_phase(case.engagement_phase)
    explicit = payout_creditor is not None and payout_partner is not None
    creditor: Decimal | None
    fee: Decimal | None
    if explicit:
        assert payout_creditor is not None
        assert payout_partner is not None
        creditor, fee = payout_creditor, payout_partner
    elif case.success_fee is not None:
        fee = money_round(amount * case.success_fee / Decimal(100), currency)
        creditor = amount - fee
    else:
        creditor = fee = None
    platform = money_round(fee * share, currency) if fee is not None else None
    return SplitPreview(
        currency=currency,
        amount=amount,
        remainder_before=before,
        remainder_after=before - amount,
        creditor=creditor,
        agency_fee=fee,
        debitura_share=platform,
        agency_keeps=fee - platform if fee is not None and platform is not None else None,
        success_fee=case.success_fee,
        revenue_share=share,
        revenue_share_known=shares.known,
        explicit=explicit,
        settles=before - amount <= 0,
    )


# --- Guards before recording --------------------------------------------------------------------


def payment_record_warnings(
    *, case: Case, amount: Decimal, when: date, token: str, remainder: Decimal | None = None
) -> list[str]:
    """What the agent must confirm before the payment is queued: above the remainder, a likely duplicate.

    Payments written by this same form (its token) do not count: a double submit is not a duplicate.
    """
    warnings = []
    remainder = payment_remainder(case=case) if remainder is None else remainder
    if amount > remainder:
        warnings.append(
            f"The amount is above the case's remainder ({money_text(remainder, case.currency)}). "
            "Record it anyway?"
        )
    window = timedelta(days=DUPLICATE_WINDOW_DAYS)
    same = (
        Payment.objects.filter(case=case, amount=amount, date__range=(when - window, when + window))
        .exclude(state=Payment.State.FAILED)
        .exclude(action__idempotency_key=token)
        .order_by("-date")
        .first()
    )
    if same is not None:
        warnings.append(
            f"Is this a duplicate? A payment of {money_text(amount, case.currency)} on this case is already "
            f"recorded for {same.date:%Y-%m-%d} ({same.get_state_display().lower()})."
        )
    return warnings


# --- The ledger --------------------------------------------------------------------------------


def payments_ledger(*, filters: LedgerFilterSet | None = None) -> QuerySet[Payment]:
    """Every payment across cases matching the filters (their valid values), newest first."""
    payments = filters.qs if filters is not None else Payment.objects.all()
    return payments.order_by("-date", "-id")


def _counted(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    # Failed payments never reached Debitura: they are listed, not counted.
    return payments.exclude(state=Payment.State.FAILED).order_by()


def payments_totals(*, payments: QuerySet[Payment]) -> list[dict[str, Any]]:
    """Count and sum per currency (amounts in different currencies are never added up)."""
    return list(
        _counted(payments)
        .values("currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("currency")
    )


_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=4)


def payments_earnings_by_month(*, payments: QuerySet[Payment], shares: RevenueShares) -> list[dict[str, Any]]:
    """The agency's fee per month and currency, Debitura's share of it, and what the agency keeps.

    Debitura's payout to the agency is used when known (payments recorded here); otherwise the
    fee is estimated from the case's success fee. Rows without either are counted as unknown.
    """
    fee = Coalesce(
        F("payout_partner"),
        ExpressionWrapper(F("amount") * F("case__success_fee") / Value(Decimal(100)), output_field=_MONEY),
        output_field=_MONEY,
    )
    share = CaseWhen(
        When(case__engagement_phase__in=sorted(LEGAL_PHASES), then=Value(shares.legal)),
        default=Value(shares.pre_legal),
        output_field=_MONEY,
    )
    rows = (
        _counted(payments)
        .annotate(month=TruncMonth("date"), fee=fee, share=share)
        .values("month", "currency")
        .annotate(
            count=Count("id"),
            received=Sum("amount"),
            agency_fee=Sum("fee"),
            debitura_share=Sum(ExpressionWrapper(F("fee") * F("share"), output_field=_MONEY)),
            unknown=Count("id", filter=Q(payout_partner__isnull=True, case__success_fee__isnull=True)),
            estimated=Count("id", filter=Q(payout_partner__isnull=True)),
        )
        .order_by("-month", "currency")
    )
    result = []
    for row in rows:
        currency = row["currency"]
        fee_total = money_round(row["agency_fee"] or Decimal(0), currency)
        platform = money_round(row["debitura_share"] or Decimal(0), currency)
        result.append(
            {**row, "agency_fee": fee_total, "debitura_share": platform, "keeps": fee_total - platform}
        )
    return result


# --- CSV export --------------------------------------------------------------------------------

CSV_COLUMNS = (
    ("date", "Date"),
    ("case__reference", "Debitura reference"),
    ("case__partner_reference", "Agency reference"),
    ("case__debtor_name", "Debtor"),
    ("case__creditor_name", "Creditor"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("recipient", "Received by"),
    ("commission_status", "Commission"),
    ("payout_creditor", "Payout to creditor"),
    ("payout_partner", "Payout to agency"),
    ("state", "State"),
    ("remote_id", "Debitura payment id"),
    ("case__lifecycle", "Case lifecycle"),
)
CSV_CHUNK_ROWS = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any, currency: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(amount_as_written(value, currency))
    return spreadsheet_text(str(value))  # never run a debtor's name as a formula


def payments_csv_rows(*, payments: QuerySet[Payment], chunk_size: int = CSV_CHUNK_ROWS) -> Iterator[str]:
    """The rows as CSV lines, header first, read from the database a chunk at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow([label for _, label in CSV_COLUMNS])
    fields = [name for name, _ in CSV_COLUMNS]
    currency_at = fields.index("currency")
    rows = payments.values_list(*fields).iterator(chunk_size=chunk_size)
    lines: list[str] = []
    for row in rows:
        currency = row[currency_at]
        lines.append(writer.writerow([_cell(value, currency) for value in row]))
        if len(lines) >= 200:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
