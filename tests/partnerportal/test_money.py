from decimal import Decimal

import pytest
from django.template import Context, Template

from partnerportal.money import amount_as_written, minor_unit, money_round, money_text, same_amount


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5"), "EUR", "1,234.50 EUR"),
        (Decimal("1234.5"), "jpy", "1,235 JPY"),
        (Decimal("0.1255"), "KWD", "0.126 KWD"),
        (Decimal("-3"), "DKK", "-3.00 DKK"),
        (None, "EUR", "\u2013"),
        ("12.345", "USD", "12.35 USD"),
        (Decimal("5"), "", "5.00"),
    ],
)
def test_money_text_uses_the_currencys_decimals(amount, currency, expected):
    assert money_text(amount, currency) == expected


def test_the_money_filter_draws_money_text():
    rendered = Template("{% load portal %}{{ amount|money:currency }}").render(
        Context({"amount": Decimal("1234.5"), "currency": "jpy"})
    )
    assert rendered == "1,235 JPY"


@pytest.mark.parametrize(
    ("currency", "unit"),
    [("EUR", "0.01"), ("jpy", "1"), ("KWD", "0.001"), ("XYZ", "0.01"), (None, "0.01")],
)
def test_a_currencys_minor_unit(currency, unit):
    assert str(minor_unit(currency)) == unit


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "EUR", "2.35"),  # half up, as Debitura rounds (not to the even 2.34)
        ("-2.345", "EUR", "-2.35"),
        ("1499.5", "JPY", "1500"),
        ("0.1255", "KWD", "0.126"),
    ],
)
def test_money_round_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    assert str(money_round(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1799.3400", "EUR", "1799.34"),
        ("1500.0000", "JPY", "1500"),
        ("0.1000", "KWD", "0.100"),
        ("12.3450", "EUR", "12.345"),  # more decimals than EUR holds: kept, nothing rounded away
        ("1500.5000", "JPY", "1500.5"),
        ("1000.0000", "EUR", "1000.00"),
    ],
)
def test_amount_as_written(amount, currency, expected):
    assert str(amount_as_written(Decimal(amount), currency)) == expected


def test_same_amount_compares_in_the_currencys_minor_unit():
    assert same_amount(Decimal("10.005"), Decimal("10.01"), "EUR")
    assert not same_amount(Decimal("10.004"), Decimal("10.01"), "EUR")
    assert same_amount(Decimal("1499.5"), Decimal("1500"), "JPY")
    assert not same_amount(Decimal("10.0004"), Decimal("10.001"), "KWD")
