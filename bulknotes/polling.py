"""Following a bulk note's ingestion job to its end, then finding out which cases got the note.

Polling is a Celery task that queues itself again with a countdown (bulknotes.tasks.poll), not
the outbox's check step: the outbox row is done once Debitura took the job, and its `check`
answers "did an unanswered send take effect", with exponential backoff and the case's later
actions waiting behind it, which fits neither a job that runs for minutes nor its progress.

The state lives on the BulkNote row, so polling survives a worker restart: each poll claims the
job by moving `next_poll_at` ahead (two polls never work on one job at once), and the sweep
(beat, bulknotes.sweep) queues a poll for any job whose due poll did not run. Polling stops at a
final state: Completed (every case done or failed) or Failed.

Debitura reports counts only. When every row succeeded (succeeded == rows), every case is done
without reading anything back; otherwise each case's timeline (and the case, for the reason) is
read back through the sync (cases.sync.case_read_back) and a case whose note is not there, past
the look-alikes it held before the send, is failed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bulknotes.models import BulkNote, BulkNoteCase
from bulknotes.rows import bulk_note_rows, same_text
from cases.models import Case, LifecycleChoices, TimelineItem
from cases.sync import case_read_back
from debitura.client import DebituraClient, get_client
from debitura.errors import PermanentError, TransientError
from debitura.types import IngestionJob
from outbox.registry import BEFORE

log = logging.getLogger(__name__)

State = BulkNote.State
POLL_TASK = "bulknotes.poll"
# Quick at first (a small job is done in seconds), then slower, never slower than the cap.
POLL_SECONDS = 2.0
POLL_CAP_SECONDS = 30.0
# A poll in progress holds the job this long; a worker that died holding it lets it go then.
CLAIM_SECONDS = 120.0
# A due poll not started this long after it was due is queued again by the sweep.
SWEEP_GRACE_SECONDS = 30.0
POLLED = (State.QUEUED, State.PROCESSING, State.CHECKING)


def _seconds(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def poll_interval(polls: int) -> timedelta:
    """The wait before the next poll: POLL_SECONDS for the first five, then growing to the cap."""
    base = _seconds("BULKNOTES_POLL_SECONDS", POLL_SECONDS)
    return timedelta(seconds=min(POLL_CAP_SECONDS, base * 1.5 ** max(0, polls - 5)))


def bulk_note_poll_queue(bulk_id: int, *, countdown: float = 0.0) -> None:
    """Queue a poll of the bulk note's job (by the task's name: the task module imports this one)."""
    signature = current_app.signature(POLL_TASK, args=(bulk_id,))
    if countdown:
        signature.apply_async(countdown=countdown)
    else:
        signature.apply_async()


def _claim(bulk_id: int, now: datetime) -> bool:
    """Take the job for one poll: only when it is due (a second message for it finds it held)."""
    return bool(
        BulkNote.objects.filter(
            pk=bulk_id, state__in=POLLED, next_poll_at__lte=now + timedelta(seconds=1)
        ).update(next_poll_at=now + timedelta(seconds=_seconds("BULKNOTES_CLAIM_SECONDS", CLAIM_SECONDS)))
    )


def _again(bulk: BulkNote, now: datetime, delay: timedelta, **changes: object) -> None:
    """Let go of the job until its next poll, and queue that poll."""
    BulkNote.objects.filter(pk=bulk.pk).update(
        next_poll_at=now + delay, updated_at=now, polls=F("polls") + 1, **changes
    )
    transaction.on_commit(lambda: bulk_note_poll_queue(bulk.pk, countdown=delay.total_seconds()))


def bulk_note_poll(
    *, bulk_id: int, client: DebituraClient | None = None, now: datetime | None = None
) -> BulkNote | None:
    """One poll: the job's progress, and once it is finished each case's outcome. Returns the
    bulk note as it is now, or None when the job was not due (another poll holds it, or final)."""
    now = now or timezone.now()
    if not _claim(bulk_id, now):
        return None
    bulk = BulkNote.objects.select_related("action").get(pk=bulk_id)
    client = client or get_client()
    try:
        if bulk.state != State.CHECKING:
            job = _job(bulk, client)
            if not job.finished:
                state = State.PROCESSING if job.status != job.status.QUEUED else State.QUEUED
                _again(bulk, now, poll_interval(bulk.polls + 1), **_counts(job), state=state, last_error="")
                return _reload(bulk)
            BulkNote.objects.filter(pk=bulk.pk).update(state=State.CHECKING, updated_at=now, **_counts(job))
            bulk.refresh_from_db()
            if job.status in (job.status.FAILED, job.status.CANCELLED):
                # Rows may have been processed before it stopped: look at every case, as below.
                log.warning("bulk note %s: Debitura's job %s ended %s", bulk.pk, bulk.job_id, job.status.name)
        bulk_note_conclude(bulk=bulk, client=client, now=now)
    except TransientError as exc:
        delay = max(poll_interval(bulk.polls + 1), timedelta(seconds=exc.retry_after or 0))
        _again(bulk, now, delay, last_error=f"{exc} Asking again in {delay.total_seconds():.0f} s.")
    except PermanentError as exc:
        _fail(bulk, now, f"Debitura did not report on the job: {exc.message}")
    return _reload(bulk)


def _reload(bulk: BulkNote) -> BulkNote:
    bulk.refresh_from_db()
    return bulk


def _job(bulk: BulkNote, client: DebituraClient) -> IngestionJob:
    """The job's progress; its id first, when the send's answer could not be read (the same key
    and body again make Debitura replay that answer, not queue a second job)."""
    if not bulk.job_id:
        action = bulk.action
        # Only a done send leaves no id: its answer (with the id) could not be read.
        assert action is not None
        created = client.create_ingestion_job(bulk_note_rows(action), idempotency_key=action.idempotency_key)
        BulkNote.objects.filter(pk=bulk.pk).update(job_id=created.job_id)
        bulk.job_id = created.job_id
    return client.get_ingestion_job(bulk.job_id)


def _counts(job: IngestionJob) -> dict[str, int]:
    return {
        "rows_total": job.rows_total,
        "rows_succeeded": job.rows_succeeded,
        "rows_failed": job.rows_failed,
    }


def _fail(bulk: BulkNote, now: datetime, reason: str) -> None:
    with transaction.atomic():
        BulkNote.objects.filter(pk=bulk.pk).update(
            state=State.FAILED, last_error=reason, finished_at=now, updated_at=now, next_poll_at=None
        )
        BulkNoteCase.objects.filter(bulk_note=bulk, state=BulkNoteCase.State.PENDING).update(
            state=BulkNoteCase.State.FAILED, reason=reason, updated_at=now
        )


def bulk_note_conclude(*, bulk: BulkNote, client: DebituraClient, now: datetime | None = None) -> None:
    """Each case's outcome once the job is finished; Completed when none is left pending.

    A case whose read-back fails for a transient reason stays pending and is asked again at the
    next poll; the cases already decided keep their outcome.
    """
    now = now or timezone.now()
    pending = [
        str(case_id)
        for case_id in BulkNoteCase.objects.filter(
            bulk_note=bulk, state=BulkNoteCase.State.PENDING
        ).values_list("case_id", flat=True)
    ]
    if bulk.rows_total and bulk.rows_succeeded == bulk.rows_total == bulk.cases.count():
        # The counts prove it: every row of the job, one per case, succeeded.
        with transaction.atomic():
            BulkNoteCase.objects.filter(bulk_note=bulk, state=BulkNoteCase.State.PENDING).update(
                state=BulkNoteCase.State.DONE, updated_at=now
            )
            # The notes are not in the local timelines yet: the children queue brings them.
            Case.objects.filter(pk__in=pending).update(children_stale=True)
            _complete(bulk, now)
        return
    unread: list[str] = []
    refused: dict[str, str] = {}
    for case_id in pending:
        try:
            case_read_back(case_id=case_id, parts=frozenset({"case", "timeline"}), client=client)
        except TransientError:
            unread.append(case_id)
        except PermanentError as exc:
            # The case cannot be read (Debitura refuses): its note cannot be confirmed either.
            refused[case_id] = f"The case's timeline could not be read back: {exc.message}"
    for case_id, reason in refused.items():
        BulkNoteCase.objects.filter(bulk_note=bulk, case_id=case_id).update(
            state=BulkNoteCase.State.FAILED, reason=reason, updated_at=now
        )
    _decide(bulk, [case_id for case_id in pending if case_id not in unread and case_id not in refused], now)
    if unread:
        _again(bulk, now, poll_interval(bulk.polls + 1), last_error="Some timelines could not be read yet.")
        return
    with transaction.atomic():
        _complete(bulk, now)


def _decide(bulk: BulkNote, case_ids: list[str], now: datetime) -> None:
    """Done where the case's timeline holds more notes with the text than before the send."""
    before = (bulk.action.payload.get(BEFORE) if bulk.action else None) or {}
    found: dict[str, int] = {}
    for owner, description in TimelineItem.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "description"
    ):
        if same_text(description, bulk.text):
            found[str(owner)] = found.get(str(owner), 0) + 1
    cases = {str(c.pk): c for c in Case.objects.filter(pk__in=case_ids).only("id", "lifecycle", "gone_at")}
    with transaction.atomic():
        for case_id in case_ids:
            if found.get(case_id, 0) > before.get(case_id, 0):
                changes = {"state": BulkNoteCase.State.DONE, "reason": ""}
            else:
                changes = {"state": BulkNoteCase.State.FAILED, "reason": _why(cases.get(case_id))}
            BulkNoteCase.objects.filter(bulk_note=bulk, case_id=case_id).update(updated_at=now, **changes)


def _why(case: Case | None) -> str:
    """Debitura says only that a row failed: the likeliest reason from the case as read back."""
    if case is None or case.gone_at is not None:
        return "The case is no longer assigned to the agency at Debitura."
    if case.lifecycle != LifecycleChoices.ACTIVE:
        label = LifecycleChoices(case.lifecycle).label if case.lifecycle in LifecycleChoices.values else ""
        return f"The case is {label or case.lifecycle} at Debitura now, and takes no notes."
    return "The note is not on the case's timeline at Debitura (the job reported the row failed)."


def _complete(bulk: BulkNote, now: datetime) -> None:
    BulkNote.objects.filter(pk=bulk.pk).update(
        state=State.COMPLETED, finished_at=now, updated_at=now, next_poll_at=None, last_error=""
    )


def bulk_notes_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Queue a poll for jobs whose due poll never ran (a worker died, a message was lost)."""
    now = now or timezone.now()
    grace = timedelta(seconds=_seconds("BULKNOTES_SWEEP_GRACE_SECONDS", SWEEP_GRACE_SECONDS))
    stale = list(
        BulkNote.objects.filter(state__in=POLLED, next_poll_at__lt=now - grace).values_list("pk", flat=True)[
            :limit
        ]
    )
    for pk in stale:
        bulk_note_poll_queue(pk)
    if stale:
        log.info("bulk notes sweep queued %d polls left behind", len(stale))
    return len(stale)
