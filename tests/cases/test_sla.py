"""The business-time clock: deadlines counted with weekends skipped."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from cases.sla import business_deadline, business_time_between


def test_a_deadline_is_the_moment_the_business_time_since_the_start_reaches_the_span():
    rng = random.Random(7)
    for _ in range(500):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 500_000))
        span = timedelta(minutes=rng.randint(0, 30_000))
        assert business_time_between(start, business_deadline(start, span)) == span


def test_one_business_day_from_friday_afternoon_is_monday_afternoon():
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert business_deadline(friday, timedelta(days=1)) == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_a_clock_started_on_a_weekend_runs_from_monday_morning():
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert business_deadline(saturday, timedelta(hours=48)) == datetime(2026, 12, 9, 0, 0, tzinfo=UTC)
