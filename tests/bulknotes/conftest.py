"""Fixtures for bulk notes: three Active cases, polls recorded instead of queued, and running a
bulk note through the relay and its polls to the end against the in-process emulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bulknotes.models import BulkNote
from bulknotes.polling import bulk_note_poll
from cases.models import Case
from debitura.client import DebituraClient
from tests.fixtures.outbox import LATER

TEXT = "Monthly update: the debtor was called twice and promised to reply this week."


@dataclass
class QueuedPolls:
    """Polls the code under test queued (nothing reaches a broker): (bulk id, countdown)."""

    calls: list[tuple[int, float]] = field(default_factory=list)


@pytest.fixture(autouse=True)
def queued_polls(monkeypatch: pytest.MonkeyPatch) -> QueuedPolls:
    from bulknotes.tasks import poll

    queued = QueuedPolls()

    def apply_async(args: tuple[Any, ...] = (), kwargs: Any = None, countdown: float | None = None, **_: Any):
        queued.calls.append((args[0], countdown or 0.0))

    monkeypatch.setattr(poll, "apply_async", apply_async)
    return queued


@pytest.fixture
def three_active(cases_by_lifecycle: Callable[..., list[Case]]) -> list[Case]:
    return cases_by_lifecycle("Active")[:3]


@pytest.fixture
def poll_to_end(synced: DebituraClient) -> Callable[..., BulkNote]:
    """Poll a bulk note (each poll an hour after the last, so every poll is due) until it is final."""

    def run(bulk: BulkNote, *, limit: int = 20) -> BulkNote:
        moment = LATER
        for _ in range(limit):
            moment += timedelta(hours=1)
            bulk_note_poll(bulk_id=bulk.pk, client=synced, now=moment)
            bulk.refresh_from_db()
            if bulk.is_final:
                return bulk
        raise AssertionError(f"bulk note {bulk.pk} is still {bulk.state} after {limit} polls")

    return run
