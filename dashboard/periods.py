"""The dashboard's period chooser: this month, the last 3 or the last 12 calendar months.

Periods are whole calendar months ending with the current one, so every figure of a period is a
sum of monthly summary rows (dashboard.models) and a month is never cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms

PERIODS: dict[str, tuple[str, int]] = {
    "month": ("This month", 1),
    "3m": ("Last 3 months", 3),
    "12m": ("Last 12 months", 12),
}
DEFAULT_PERIOD = "month"


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before the one holding `day`."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def week_start(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """A chosen period: its key, its label and the months and weeks it covers up to `today`."""

    key: str
    label: str
    start: date
    today: date

    @property
    def months(self) -> list[date]:
        """The first day of each month in the period, oldest first."""
        count = (self.today.year - self.start.year) * 12 + self.today.month - self.start.month + 1
        return [month_start(self.today, back) for back in reversed(range(count))]

    @property
    def weeks(self) -> list[date]:
        """The Monday of each week that has a day in the period, oldest first."""
        first, last = week_start(self.start), week_start(self.today)
        return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


class PeriodForm(forms.Form):
    """The chooser (a GET form); an unknown value falls back to this month."""

    period = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in PERIODS.items()], required=False, label="Period"
    )


def period_choose(*, data: object, today: date) -> Period:
    """The period asked for in the query string, this month when none or an unknown one is."""
    form = PeriodForm(data)  # type: ignore[arg-type]
    key = form.cleaned_data.get("period") if form.is_valid() else ""
    key = key or DEFAULT_PERIOD
    label, months = PERIODS[key]
    return Period(key=key, label=label, start=month_start(today, months - 1), today=today)
