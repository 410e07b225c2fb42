"""Instalment schedules: even splits in minor units with the remainder last, dates per interval,
and schedules that cannot add up refused with the field that is wrong."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from promises.schedule import ScheduleInvalid, schedule_plan


def plan(total: str, count: int, currency: str = "EUR", interval: str = "monthly", **kwargs):
    return schedule_plan(
        total=Decimal(total),
        currency=currency,
        first_due=date(2027, 1, 31),
        count=count,
        interval=interval,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("total", "count", "currency", "amounts"),
    [
        ("100.00", 3, "EUR", ["33.33", "33.33", "33.34"]),
        ("1000", 3, "JPY", ["333", "333", "334"]),
        ("10.000", 3, "KWD", ["3.333", "3.333", "3.334"]),
        ("1200.00", 3, "EUR", ["400.00", "400.00", "400.00"]),
        ("0.03", 3, "EUR", ["0.01", "0.01", "0.01"]),
        ("250.00", 1, "EUR", ["250.00"]),
    ],
)
def test_an_even_split_puts_the_remainder_on_the_last_instalment(total, count, currency, amounts):
    instalments = plan(total, count, currency)
    assert [i.amount for i in instalments] == [Decimal(a) for a in amounts]
    assert sum(i.amount for i in instalments) == Decimal(total)


def test_monthly_dates_keep_the_day_where_the_month_has_it():
    assert [i.due_date for i in plan("400.00", 4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


@pytest.mark.parametrize(("interval", "days"), [("weekly", 7), ("fortnightly", 14)])
def test_weekly_and_fortnightly_dates_step_by_days(interval, days):
    dates = [i.due_date for i in plan("300.00", 3, interval=interval)]
    assert [(b - a).days for a, b in itertools.pairwise(dates)] == [days, days]


def test_a_given_instalment_amount_leaves_the_rest_to_the_last():
    assert [i.amount for i in plan("1000.00", 3, each=Decimal("400.00"))] == [
        Decimal("400.00"),
        Decimal("400.00"),
        Decimal("200.00"),
    ]


@pytest.mark.parametrize(
    ("total", "count", "kwargs", "field", "words"),
    [
        ("1000.00", 4, {"each": Decimal("400.00")}, "instalment_amount", "make more than the promised"),
        ("1000.00", 2, {"each": Decimal("400.00")}, "instalment_amount", "cover at most 800.00 EUR"),
        ("0.02", 3, {}, "instalments", "cannot be split into 3 instalments"),
        ("5", 10, {"currency": "JPY"}, "instalments", "cannot be split into 10"),
        ("100.00", 61, {}, "instalments", "Between 1 and 60"),
        ("100.00", 2, {"interval": ""}, "interval", "how often"),
    ],
)
def test_a_schedule_that_cannot_add_up_is_refused_on_its_field(total, count, kwargs, field, words):
    with pytest.raises(ScheduleInvalid) as caught:
        plan(total, count, **kwargs)
    assert words in caught.value.errors[field]
