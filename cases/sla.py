"""The clock on new assignments: Debitura expects an answer within about one business day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

EXPECTED = timedelta(days=1)  # one business day, counted in business time (weekends skipped)


def business_time_between(start: datetime, end: datetime) -> timedelta:
    """Time from start to end that falls on Monday to Friday, in the active time zone."""
    if end <= start:
        return timedelta(0)
    start, end = timezone.localtime(start), timezone.localtime(end)
    total = timedelta(0)
    cursor = start
    # Whole weeks hold five business days each; only the remainder is walked day by day.
    weeks = (end - start).days // 7
    if weeks:
        total += weeks * timedelta(days=5)
        cursor = start + timedelta(weeks=weeks)
    while cursor < end:
        midnight = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        step_end = min(midnight, end)
        if cursor.weekday() < 5:
            total += step_end - cursor
        cursor = step_end
    return total


def business_deadline(start: datetime, span: timedelta) -> datetime:
    """The moment `span` of business time has passed since `start`: business_time_between's inverse
    (a deadline counted as Debitura counts its SLA, weekends skipped)."""
    cursor = timezone.localtime(start)
    if cursor.weekday() >= 5:  # the clock starts on Monday morning
        cursor = (cursor + timedelta(days=7 - cursor.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    weeks = span // timedelta(days=5)
    cursor += timedelta(weeks=weeks)
    left = span - weeks * timedelta(days=5)
    while True:
        midnight = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        if cursor.weekday() < 5:
            if left <= midnight - cursor:
                return cursor + left
            left -= midnight - cursor
        cursor = midnight


@dataclass(frozen=True)
class SlaClock:
    """How long a new assignment has waited for the agency, against Debitura's expectation."""

    elapsed: timedelta
    overdue: bool

    @property
    def label(self) -> str:
        return f"{duration_words(self.elapsed)} of 1 business day"

    @property
    def short(self) -> str:
        return duration_words(self.elapsed)


def sla_clock(assigned_at: datetime | None, *, now: datetime | None = None) -> SlaClock | None:
    if assigned_at is None:
        return None
    elapsed = business_time_between(assigned_at, now or timezone.now())
    return SlaClock(elapsed=elapsed, overdue=elapsed > EXPECTED)


def duration_words(span: timedelta) -> str:
    """ "12 min", "3 h", "2 d 4 h": short enough for a table cell."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
