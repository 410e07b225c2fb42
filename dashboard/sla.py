"""Debitura's timeliness expectations (API-NOTES, "Notes, chat ..."), classified one obligation at a time.

Pure functions over timestamps, so the boundaries are tested without a database; the summaries
(dashboard.summaries) feed them the local copy. An outcome is on time (True), late (False), or
still open and not yet late (None: not counted). Exactly at the limit is on time, as the case
list's SLA clock has it (cases.sla: overdue only past the business day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cases.sla import EXPECTED, business_time_between

VERIFY_WITHIN = EXPECTED  # one business day from assignment to accept or decline
REPLY_WITHIN = timedelta(hours=48)  # business hours from a creditor's message to the agency's reply
UPDATE_EVERY = timedelta(days=30)  # calendar days between progress updates on an Active case


@dataclass(frozen=True)
class Outcome:
    """One obligation: when it counts (its month decides the summary row) and how it went."""

    at: datetime
    on_time: bool | None
    took: timedelta | None = None  # business time to the decision, for verifications


def verify_outcome(*, assigned_at: datetime, decided_at: datetime | None, now: datetime) -> Outcome:
    """Accepted or declined within one business day of the assignment (weekends not counted)."""
    if decided_at is not None:
        took = business_time_between(assigned_at, decided_at)
        return Outcome(at=assigned_at, on_time=took <= VERIFY_WITHIN, took=took)
    late = business_time_between(assigned_at, now) > VERIFY_WITHIN
    return Outcome(at=assigned_at, on_time=False if late else None)


def reply_outcomes(messages: Iterable[tuple[datetime, bool]], *, now: datetime) -> list[Outcome]:
    """Each stretch of creditor messages (oldest first: (sent, from the creditor's side)) answered by
    the agency within 48 business hours of its first message; an unanswered one is late once past."""
    outcomes = []
    waiting_since: datetime | None = None
    for sent, from_creditor in messages:
        if from_creditor:
            waiting_since = waiting_since or sent
        elif waiting_since is not None:
            on_time = business_time_between(waiting_since, sent) <= REPLY_WITHIN
            outcomes.append(Outcome(at=waiting_since, on_time=on_time))
            waiting_since = None
    if waiting_since is not None:
        late = business_time_between(waiting_since, now) > REPLY_WITHIN
        outcomes.append(Outcome(at=waiting_since, on_time=False if late else None))
    return outcomes


def update_outcomes(
    *, started_at: datetime, notes: Iterable[datetime], until: datetime | None
) -> list[Outcome]:
    """A progress note every 30 days from acceptance: each deadline met by a note (on time) or passed
    without one (late, one per missed deadline); `until` is now for an Active case, its closing
    time for a closed one, None where no update is expected any more (paused)."""
    outcomes = []
    anchor = started_at
    for note in sorted(notes):
        if note < anchor:
            continue
        due = anchor + UPDATE_EVERY
        if note <= due:
            outcomes.append(Outcome(at=due, on_time=True))
        # A late note settles the deadlines it missed (each late), not the next one as well.
        while due < note:
            outcomes.append(Outcome(at=due, on_time=False))
            due += UPDATE_EVERY
        anchor = note
    if until is not None:
        due = anchor + UPDATE_EVERY
        while due < until:
            outcomes.append(Outcome(at=due, on_time=False))
            due += UPDATE_EVERY
    return outcomes
