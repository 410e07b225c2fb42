"""Debitura's timeliness expectations on their boundaries: exactly at the limit is on time, a
second past it is late, and weekends are not business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.sla import reply_outcomes, update_outcomes, verify_outcome

FRIDAY_10 = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)  # a Friday
MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
SATURDAY_12 = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
TUESDAY_0 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
LATER = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc(settings):
    settings.TIME_ZONE = "UTC"


def test_a_case_assigned_on_friday_and_accepted_on_monday_at_the_same_hour_took_exactly_one_business_day():
    outcome = verify_outcome(assigned_at=FRIDAY_10, decided_at=MONDAY_10, now=LATER)
    assert outcome.took == timedelta(days=1)
    assert outcome.on_time is True
    assert verify_outcome(assigned_at=FRIDAY_10, decided_at=MONDAY_10 + SECOND, now=LATER).on_time is False


def test_a_case_assigned_on_saturday_has_all_of_monday():
    assert verify_outcome(assigned_at=SATURDAY_12, decided_at=TUESDAY_0, now=LATER).on_time is True
    assert verify_outcome(assigned_at=SATURDAY_12, decided_at=TUESDAY_0 + SECOND, now=LATER).on_time is False


def test_an_undecided_case_is_open_within_the_business_day_and_late_after_it():
    assert verify_outcome(assigned_at=FRIDAY_10, decided_at=None, now=MONDAY_10).on_time is None
    late = verify_outcome(assigned_at=FRIDAY_10, decided_at=None, now=MONDAY_10 + SECOND)
    assert late.on_time is False
    assert late.took is None


def test_a_reply_48_business_hours_after_a_friday_message_is_on_time_a_second_later_is_late():
    tuesday_10 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # Fri 14 h + Mon 24 h + Tue 10 h = 48 h
    [on_time] = reply_outcomes([(FRIDAY_10, True), (tuesday_10, False)], now=LATER)
    assert on_time.on_time is True
    assert on_time.at == FRIDAY_10
    [late] = reply_outcomes([(FRIDAY_10, True), (tuesday_10 + SECOND, False)], now=LATER)
    assert late.on_time is False


def test_the_clock_of_a_reply_starts_at_the_first_unanswered_creditor_message():
    thread = [
        (FRIDAY_10, True),
        (FRIDAY_10 + timedelta(hours=1), True),  # a second message does not restart it
        (MONDAY_10, False),
        (MONDAY_10 + timedelta(hours=1), False),  # the agency again: nothing to answer
        (TUESDAY_0, True),
    ]
    outcomes = reply_outcomes(thread, now=TUESDAY_0 + timedelta(hours=1))
    assert [(o.at, o.on_time) for o in outcomes] == [(FRIDAY_10, True), (TUESDAY_0, None)]
    unanswered = reply_outcomes(thread, now=LATER)
    assert unanswered[-1].on_time is False


def test_a_progress_note_on_day_30_is_on_time_and_one_a_second_later_misses_the_deadline_once():
    started = datetime(2026, 1, 1, tzinfo=UTC)
    due = started + timedelta(days=30)
    assert [(o.at, o.on_time) for o in update_outcomes(started_at=started, notes=[due], until=None)] == [
        (due, True)
    ]
    late = update_outcomes(started_at=started, notes=[due + SECOND], until=None)
    assert [(o.at, o.on_time) for o in late] == [(due, False)]


def test_an_active_case_without_notes_misses_a_deadline_every_30_days_until_now():
    started = datetime(2026, 1, 1, tzinfo=UTC)
    outcomes = update_outcomes(started_at=started, notes=[], until=started + timedelta(days=95))
    assert [o.on_time for o in outcomes] == [False, False, False]
    assert outcomes[-1].at == started + timedelta(days=90)
    # A paused case (until None) is expected to send none.
    assert update_outcomes(started_at=started, notes=[], until=None) == []
