"""A bulk note goes to Debitura as one ingestion job, exactly once, is polled to its end, and each
case's outcome is found: from the counts when they prove it, from the timelines otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bulknotes.actions import bulk_note_post
from bulknotes.models import BulkNote, BulkNoteCase
from bulknotes.polling import bulk_note_poll, bulk_notes_sweep
from cases.models import Case, TimelineItem
from debitura.enums import CloseCode
from outbox.models import OutboxAction
from tests.bulknotes.conftest import TEXT
from tests.fixtures.outbox import LATER, posts, reload

pytestmark = pytest.mark.django_db

JOBS = "/ingestion-jobs"
JOB = "/ingestion-jobs/{jobId}"


def _notes_at_debitura(client, case: Case, text: str = TEXT) -> int:
    return sum((item.description or "").strip() == text for item in client.get_timeline(str(case.pk)).items)


def test_a_job_whose_first_post_timed_out_is_sent_once_and_polled_to_completion(
    three_active,
    agent,
    relay,
    emulator,
    synced,
    poll_to_end,
    queued_polls,
    django_capture_on_commit_callbacks,
):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    emulator.set_faults(timeout_rate=1.0, paths=[JOBS], methods=["POST"])

    relay()
    assert reload(bulk.action).uncertain
    assert BulkNote.objects.get(pk=bulk.pk).state == BulkNote.State.SENDING
    emulator.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        relay(now=LATER)

    action = reload(bulk.action)
    assert action.state == OutboxAction.State.DONE
    keys = {r.idempotency_key for r in posts(emulator, JOBS)}
    assert len(posts(emulator, JOBS)) == 2
    assert keys == {action.idempotency_key}
    assert len(emulator.state.jobs) == 1  # the retry was replayed, not queued again
    bulk.refresh_from_db()
    assert bulk.state == BulkNote.State.QUEUED
    assert bulk.job_id == next(iter(emulator.state.jobs))
    assert queued_polls.calls == [(bulk.pk, 2.0)]

    bulk = poll_to_end(bulk)

    assert bulk.state == BulkNote.State.COMPLETED
    assert (bulk.rows_total, bulk.rows_succeeded, bulk.rows_failed) == (3, 3, 0)
    assert set(bulk.cases.values_list("state", flat=True)) == {BulkNoteCase.State.DONE}
    assert [_notes_at_debitura(synced, case) for case in three_active] == [1, 1, 1]


def test_progress_is_reported_while_debitura_processes_the_rows(three_active, agent, relay, emulator, synced):
    emulator.ingestion_rows_per_poll = 2
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()

    seen = []
    moment = LATER
    while (polled := bulk_note_poll(bulk_id=bulk.pk, client=synced, now=moment)) is not None:
        seen.append((polled.state, polled.rows_processed, polled.rows_total))
        moment += timedelta(hours=1)

    assert seen == [
        (BulkNote.State.PROCESSING, 0, 3),  # the first poll finds it started
        (BulkNote.State.PROCESSING, 2, 3),
        (BulkNote.State.COMPLETED, 3, 3),
    ]
    assert len(posts(emulator, JOB, method="GET")) == 3  # final: no poll asked again


def test_when_the_counts_prove_every_note_landed_no_timeline_is_read_back(
    three_active, agent, relay, emulator, poll_to_end
):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    timelines_before_send = len(posts(emulator, "/cases/{id}/timeline", method="GET"))

    bulk = poll_to_end(bulk)

    assert bulk.state == BulkNote.State.COMPLETED
    assert len(posts(emulator, "/cases/{id}/timeline", method="GET")) == timelines_before_send
    # The local timelines are left to the children queue.
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in three_active]).values_list("children_stale", flat=True)
    ) == {True}


def test_a_case_closed_at_debitura_before_processing_fails_and_the_others_are_done(
    three_active, agent, relay, emulator, synced, poll_to_end
):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    closed = three_active[1]
    synced.close_case(str(closed.pk), close_code=CloseCode.WITHDRAWN_BY_CLIENT)

    bulk = poll_to_end(bulk)

    assert (bulk.rows_succeeded, bulk.rows_failed) == (2, 1)
    outcome = {row.case_id: row for row in bulk.cases.all()}
    assert outcome[closed.pk].state == BulkNoteCase.State.FAILED
    assert "Closed" in outcome[closed.pk].reason
    for case in (three_active[0], three_active[2]):
        assert outcome[case.pk].state == BulkNoteCase.State.DONE
        # Read back: the note is in the local timeline now.
        assert TimelineItem.objects.filter(case=case, description=TEXT).count() == 1
    assert bulk.state == BulkNote.State.COMPLETED


def test_a_note_with_the_same_text_already_on_a_case_is_not_taken_for_this_one(
    three_active, agent, relay, emulator, synced, poll_to_end
):
    already = three_active[0]
    synced.create_note(str(already.pk), description=TEXT)  # last month's, word for word
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    synced.close_case(str(already.pk), close_code=CloseCode.WITHDRAWN_BY_CLIENT)

    bulk = poll_to_end(bulk)

    assert bulk.cases.get(case=already).state == BulkNoteCase.State.FAILED
    assert bulk.cases.filter(state=BulkNoteCase.State.DONE).count() == 2


def test_a_job_debitura_refuses_fails_every_case_with_its_words(three_active, agent, relay, emulator):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    emulator.set_faults(refuse_rate=1.0, paths=[JOBS], methods=["POST"])

    relay()

    bulk.refresh_from_db()
    assert bulk.state == BulkNote.State.FAILED
    assert bulk.last_error.startswith("Debitura refused the job")
    assert set(bulk.cases.values_list("state", flat=True)) == {BulkNoteCase.State.FAILED}
    assert not emulator.state.jobs


def test_a_poll_that_never_ran_is_queued_again_by_the_sweep_and_runs_once(
    three_active, agent, relay, emulator, synced, queued_polls
):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    queued_polls.calls.clear()  # the worker that had the first poll died with it
    late = timezone.now() + timedelta(minutes=5)

    assert bulk_notes_sweep(now=late) == 1
    assert queued_polls.calls == [(bulk.pk, 0.0)]
    first = bulk_note_poll(bulk_id=bulk.pk, client=synced, now=late)
    second = bulk_note_poll(bulk_id=bulk.pk, client=synced, now=late)  # a duplicate message

    assert first is not None
    assert first.state == BulkNote.State.PROCESSING
    assert second is None  # the first one holds it until its next poll is due
    assert len(posts(emulator, JOB, method="GET")) == 1
    assert bulk_notes_sweep(now=late) == 0


def test_a_poll_that_times_out_is_tried_again_later(
    three_active, agent, relay, emulator, synced, poll_to_end
):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    emulator.set_faults(timeout_rate=1.0, paths=[JOB], methods=["GET"])

    polled = bulk_note_poll(bulk_id=bulk.pk, client=synced, now=LATER)

    assert polled is not None
    assert polled.state == BulkNote.State.QUEUED
    assert "Asking again" in polled.last_error
    emulator.clear_faults()
    assert poll_to_end(bulk).state == BulkNote.State.COMPLETED


def test_a_case_taken_away_before_processing_fails_as_no_longer_assigned(
    three_active, agent, relay, emulator, poll_to_end
):
    from tests.fixtures.cases import hide_case

    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    relay()
    hide_case(emulator, str(three_active[0].pk))

    bulk = poll_to_end(bulk)

    row = bulk.cases.get(case=three_active[0])
    assert row.state == BulkNoteCase.State.FAILED
    assert row.reason == "The case is no longer assigned to the agency at Debitura."
    assert bulk.cases.filter(state=BulkNoteCase.State.DONE).count() == 2
