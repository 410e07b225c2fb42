"""Money rules in one place: a currency's decimals, rounding as Debitura rounds, amounts as agents
write them, and the text the `money` template filter shows.

Amounts are `Decimal` throughout (stored with four decimals); a float never enters.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# ISO 4217 minor units that differ from the usual two.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_units(currency: str | None) -> int:
    """How many decimals the currency is written with (JPY 0, EUR 2, KWD 3); unknown ones get 2."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def minor_unit(currency: str | None) -> Decimal:
    """The currency's smallest amount: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def money_round(amount: Decimal, currency: str | None) -> Decimal:
    """Round to the currency's minor unit (JPY whole units), half up, as Debitura does."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def same_amount(first: Decimal, second: Decimal, currency: str | None) -> bool:
    """Whether two amounts are the same once rounded to the currency (Debitura keeps it rounded)."""
    return money_round(first, currency) == money_round(second, currency)


def fits_currency(amount: Decimal, currency: str | None) -> bool:
    """Whether the amount has no fraction the currency cannot hold (100.00 JPY does, 0.5 JPY not)."""
    return amount.quantize(minor_unit(currency)) == amount


def amount_as_written(amount: Decimal, currency: str | None) -> Decimal:
    """The amount as an agent would write it: 1799.3400 EUR as 1799.34, 1500.0000 JPY as 1500.

    An amount with more decimals than the currency holds keeps them all and loses only its
    trailing zeros (12.3450 EUR as 12.345): nothing is rounded away.
    """
    try:
        if fits_currency(amount, currency):
            return amount.quantize(minor_unit(currency))
    except InvalidOperation:
        return amount  # more digits than Decimal's precision: leave it as it is
    # Only digits past the currency's decimals are left to drop, so no exponent form (1E+3).
    return amount.normalize()


def money_text(amount: Any, currency: str | None = "") -> str:
    """1234.5 with "EUR" -> "1,234.50 EUR"; JPY gets no decimals; no amount is an en dash."""
    if amount is None or amount == "":
        return "\u2013"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    text = f"{money_round(value, currency):,.{minor_units(currency)}f}"
    return f"{text} {(currency or '').upper()}".strip()
