"""Template filters for money and dates as agents read them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.conf import settings

register = template.Library()

# ISO 4217 minor units that differ from the usual two.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """How many decimals the currency is written with (JPY 0, EUR 2, KWD 3)."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """1234.5 with "EUR" -> "1,234.50 EUR"; JPY gets no decimals. Never a float on the way."""
    if amount is None or amount == "":
        return "\u2013"  # an en dash: "no amount"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    places = minor_units(currency)
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
    return f"{text} {currency.upper()}".strip()


def external_url(url: Any) -> str:
    """A URL that came from Debitura, if it may become a link: https only (plain http too under
    DEBUG, for the emulator); anything else ("javascript:", "data:", relative) is ""."""
    text = str(url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    allowed = {"https", "http"} if settings.DEBUG else {"https"}
    return text if parts.scheme.lower() in allowed and parts.netloc else ""


register.filter("external_url", external_url)
