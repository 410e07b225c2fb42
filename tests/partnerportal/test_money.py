from decimal import Decimal

import pytest

from partnerportal.templatetags.portal import money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5"), "EUR", "1,234.50 EUR"),
        (Decimal("1234.5"), "jpy", "1,235 JPY"),
        (Decimal("0.1255"), "KWD", "0.126 KWD"),
        (Decimal("-3"), "DKK", "-3.00 DKK"),
        (None, "EUR", "\u2013"),
        ("12.345", "USD", "12.35 USD"),
    ],
)
def test_money_uses_the_currencys_decimals(amount, currency, expected):
    assert money(amount, currency) == expected
