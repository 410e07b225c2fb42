"""What a row of the case list shows beyond the case's own columns (templates/cases/case_list.html#case_row).

Computed for the rows of one page at a time, from the loaded cases: no query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.template.defaultfilters import pluralize
from django.utils import timezone

from cases.models import Case, LifecycleChoices
from cases.sla import sla_clock

# An exclusive period this close to its end is marked.
EXCLUSIVE_WARN_DAYS = 30


def case_rows_mark(cases: Sequence[Case]) -> None:
    """Set on each case: is_new and its SLA clock, the exclusive period's state and words, the
    lifecycle in words and the markers (unread, new, test, disputed) for the titles of cut cells."""
    today = timezone.localdate()
    for case in cases:
        pending = case.lifecycle == LifecycleChoices.PENDING_VERIFICATION
        case.is_new = pending and case.first_opened_at is None  # type: ignore[attr-defined]
        case.sla = sla_clock(case.date_created) if pending else None  # type: ignore[attr-defined]
        case.exclusive_state, case.exclusive_hint = _exclusive(case, today)  # type: ignore[attr-defined]
        words = (case.get_lifecycle_display(), case.get_close_code_display(), case.engagement_phase)
        case.lifecycle_text = " · ".join(word for word in words if word)  # type: ignore[attr-defined]
        case.markers = _markers(case)  # type: ignore[attr-defined]


def _markers(case: Case) -> list[str]:
    unread = case.unread_messages
    markers = [f"{unread} unread message{pluralize(unread)}"] if unread else []
    if case.is_new:  # type: ignore[attr-defined]
        markers.append("new: not opened yet")
    if case.is_test_case:
        markers.append("a test case")
    if case.is_disputed:
        markers.append("the creditor says the claim is disputed")
    return markers


def _exclusive(case: Case, today: date) -> tuple[str, str]:
    """(state, words): "running", "ending" (within EXCLUSIVE_WARN_DAYS) or "over"; "" without a period."""
    end = case.exclusive_period_end
    if end is None:
        return "", ""
    until = f"Exclusive to the agency until {timezone.localdate(end):%Y-%m-%d}"
    # Debitura's word wins over the date: a closed case's period expired before its end date.
    if case.exclusivity_status and case.exclusivity_status != "Active":
        return "over", f"{until}: {case.exclusivity_status.lower()}"
    left = (timezone.localdate(end) - today).days
    if left < 0:
        return "over", f"{until}: ended"
    state = "ending" if left < EXCLUSIVE_WARN_DAYS else "running"
    return state, f"{until}: {left} day{pluralize(left)} left"
