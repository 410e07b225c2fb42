"""A promise's instalment schedule: the due dates for an interval and the amounts that add up to
the total (split evenly in the currency's minor units, the remainder on the last instalment).

Pure functions, shared by the form (errors next to the fields) and the services (which check
again, so nothing reaches the database that does not add up).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from partnerportal.money import minor_unit, money_text

MAX_INSTALMENTS = 60
INTERVAL_DAYS = {"weekly": 7, "fortnightly": 14}


@dataclass(frozen=True)
class Instalment:
    """One planned instalment."""

    position: int
    due_date: date
    amount: Decimal


class ScheduleInvalid(Exception):
    """The schedule does not work out; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan -> 28 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(*, first_due: date, count: int, interval: str) -> list[date]:
    """The due dates of `count` instalments; monthly ones count from the first date, so 31 Jan
    is followed by 28 Feb and then 31 Mar, not 28 Mar."""
    if count == 1:
        return [first_due]
    if interval == "monthly":
        return [add_months(first_due, k) for k in range(count)]
    return [first_due + timedelta(days=INTERVAL_DAYS[interval] * k) for k in range(count)]


def split_amounts(*, total: Decimal, count: int, currency: str, each: Decimal | None = None) -> list[Decimal]:
    """The instalment amounts: `each` for all but the last, which takes the rest; without `each`,
    the total split evenly in minor units with the remainder on the last. Raises ScheduleInvalid
    when the amounts cannot add up to the total with every instalment above zero."""
    unit = minor_unit(currency)
    if each is None or count == 1:
        units = int(total / unit)
        if units < count:
            raise ScheduleInvalid(
                {
                    "instalments": f"{money_text(total, currency)} cannot be split into {count} "
                    f"instalments of at least {money_text(unit, currency)}."
                }
            )
        share = Decimal(units // count) * unit
        return [share] * (count - 1) + [total - share * (count - 1)]
    before_last = each * (count - 1)
    last = total - before_last
    if count > 1 and last <= 0:
        raise ScheduleInvalid(
            {
                "instalment_amount": f"{count} instalments of {money_text(each, currency)} make "
                f"more than the promised {money_text(total, currency)}: the last one would be "
                f"{money_text(last, currency)}."
            }
        )
    if last > each:
        raise ScheduleInvalid(
            {
                "instalment_amount": f"{count} instalments of {money_text(each, currency)} cover at most "
                f"{money_text(each * count, currency)}, not the promised {money_text(total, currency)}."
            }
        )
    return [each] * (count - 1) + [last]


def schedule_plan(
    *,
    total: Decimal,
    currency: str,
    first_due: date,
    count: int,
    interval: str,
    each: Decimal | None = None,
) -> list[Instalment]:
    """The instalments of a promise; their amounts always sum to `total`."""
    if not 1 <= count <= MAX_INSTALMENTS:
        raise ScheduleInvalid({"instalments": f"Between 1 and {MAX_INSTALMENTS} instalments."})
    if count > 1 and interval not in ("monthly", *INTERVAL_DAYS):
        raise ScheduleInvalid({"interval": "Choose how often the instalments are due."})
    amounts = split_amounts(total=total, count=count, currency=currency, each=each)
    dates = due_dates(first_due=first_due, count=count, interval=interval)
    plan = [
        Instalment(k + 1, day, amount) for k, (day, amount) in enumerate(zip(dates, amounts, strict=True))
    ]
    assert sum(i.amount for i in plan) == total  # the invariant the two splits above keep
    return plan
