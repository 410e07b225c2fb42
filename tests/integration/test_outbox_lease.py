"""The relay's lease with a real worker: a slow send keeps its row by its heartbeat, a killed
worker's row is taken back once the heartbeat stopped, and neither is sent twice."""

from __future__ import annotations

from typing import Any

import pytest

from cases import actions
from cases.models import Case
from outbox.models import OutboxAction
from tests.fixtures.outbox import reload
from tests.integration.workers import synced_with_team, wait_for, worker_env, workers_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTES = "/cases/{id}/notes"


def _noted(emulator: Any, case: Case, text: str) -> int:
    with emulator.state.lock:
        return sum(note.description == text for note in emulator.state.cases[str(case.pk)].notes)


def test_a_slow_send_keeps_its_row_and_a_killed_workers_row_comes_back_once(
    emulator_server, agent, settings, tmp_path, monkeypatch
):
    emulator = emulator_server.emulator
    synced_with_team(emulator_server, agent)
    case = Case.objects.filter(lifecycle="Active").order_by("id").first()
    # A lease of 4 s (worker_settings), a sweep every 2 s; Debitura answers a note only after 12 s.
    env = worker_env(
        name="outbox-lease",
        settings=settings,
        server=emulator_server,
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
        DEBITURA_TIMEOUT_SECONDS="90",
    )
    workers = workers_for(env, tmp_path)
    log = tmp_path / "worker.log"
    emulator.set_faults(latency_ms=12_000, methods=["POST"], paths=[NOTES])
    workers.start()
    try:
        slow = actions.case_note_add(case=case, actor=agent, description="Slow, but alive.")
        wait_for(lambda: reload(slow).state == "done", seconds=90, what="the slow note done", log_path=log)
        # Three leases long, and never taken back: one claim, one note.
        assert (slow.attempts, slow.uncertain) == (1, False)
        assert _noted(emulator, case, "Slow, but alive.") == 1

        # Now the worker dies while Debitura holds the answer back (the note itself has landed).
        emulator.set_faults(latency_ms=120_000, methods=["POST"], paths=[NOTES])
        killed = actions.case_note_add(case=case, actor=agent, description="The worker dies.")
        wait_for(
            lambda: _noted(emulator, case, "The worker dies.") == 1, seconds=60, what="the note at Debitura"
        )
        workers.kill()
        emulator.clear_faults()
        workers.start()
        wait_for(lambda: reload(killed).state == "done", seconds=60, what="the row taken back", log_path=log)
    finally:
        workers.stop()
        emulator.clear_faults()

    assert killed.attempts == 2
    assert killed.response["effectFound"] is True  # checked, found, not sent again
    assert _noted(emulator, case, "The worker dies.") == 1
    assert OutboxAction.objects.exclude(state="done").count() == 0
