"""Debitura's standard success fee and the payment split it implies (API-NOTES, "Payments")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .model import Case, Partner, money

# Rough USD rates: only the fee bracket depends on them, so precision does not matter.
USD_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "DKK": Decimal("0.145"),
    "SEK": Decimal("0.095"),
    "NOK": Decimal("0.093"),
    "GBP": Decimal("1.27"),
    "CHF": Decimal("1.12"),
    "PLN": Decimal("0.25"),
    "JPY": Decimal("0.0067"),
    "CAD": Decimal("0.73"),
    "AUD": Decimal("0.66"),
}

# Jurisdictions on the European fee table.
EUROPEAN_COUNTRIES = frozenset(
    {"AT", "BE", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "IE"}
) | frozenset({"IS", "IT", "LT", "LU", "LV", "NL", "NO", "PL", "PT", "SE", "SI", "SK"})

# (lower bound in USD, fee in percent), highest bound first.
_EUROPEAN_BRACKETS = ((150_000, Decimal("6")), (1_000, Decimal("9.5")), (0, Decimal("20")))
_WORLD_BRACKETS = (
    (150_000, Decimal("7.5")),
    (75_000, Decimal("10")),
    (8_000, Decimal("15")),
    (1_000, Decimal("20")),
    (0, Decimal("30")),
)

# Points above the price difference that count as a price change (PUT /cases/{id}/fees).
PRICE_CHANGE_THRESHOLD = Decimal("0.1")


def age_uplift(due_date: datetime, today: datetime) -> Decimal:
    """Extra fee points for old claims: +10 past 12 months overdue, +20 past 24."""
    overdue_days = (today - due_date).days
    if overdue_days > 730:
        return Decimal("20")
    if overdue_days > 365:
        return Decimal("10")
    return Decimal("0")


def standard_success_fee(principal: Decimal, currency: str, country: str, uplift: Decimal) -> Decimal:
    """The standard pre-legal success fee in percent for a principal in the case currency."""
    in_usd = principal * USD_RATES.get(currency, Decimal("1"))
    brackets = _EUROPEAN_BRACKETS if country in EUROPEAN_COUNTRIES else _WORLD_BRACKETS
    base = next(fee for bound, fee in brackets if in_usd >= bound)
    return base + uplift


def proposed_success_fee(case: Case, principal: Decimal) -> Decimal:
    """The fee a case would carry at another principal, keeping its age uplift."""
    return standard_success_fee(
        principal, case.currency, case.debtor.country_alpha2, case.age_uplift or Decimal("0")
    )


def revenue_share(case: Case, partner: Partner) -> Decimal:
    """The share of the partner's commission that Debitura keeps for the case's phase."""
    legal = case.engagement_phase in ("Legal", "Enforcement")
    return partner.legal_revenue_share if legal else partner.pre_legal_revenue_share


def computed_split(case: Case, partner: Partner, amount: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(payout to creditor, payout to partner, Debitura's share of the partner's part).

    The partner keeps its success fee on the amount; the creditor gets the rest, so the two
    payouts sum to the amount, as an explicit split must. Debitura's revenue share is taken out
    of the partner's commission afterwards (invoiced separately), not out of the split.
    """
    fee = case.success_fee or Decimal("0")
    partner_part = money(amount * fee / Decimal("100"), case.currency)
    platform = money(partner_part * revenue_share(case, partner), case.currency)
    return amount - partner_part, partner_part, platform
