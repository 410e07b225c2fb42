"""A progress note posted to several cases at once: one Debitura ingestion job, and each case's outcome.

The job reports counts only (rows succeeded, rows failed), so which case got its note is found
by reading each case's timeline back once the job is finished (bulknotes.polling).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import Case
from outbox.models import OutboxAction


class BulkNote(models.Model):
    """One note for many cases, sent as one ingestion job and polled until Debitura finished it."""

    class State(models.TextChoices):
        SENDING = "sending", "Sending"  # the outbox row is on its way
        QUEUED = "queued", "Queued"  # Debitura took the job
        PROCESSING = "processing", "Processing"
        CHECKING = "checking", "Checking results"  # the job is finished; timelines being read back
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"  # Debitura refused the job, or it failed as a whole

    FINAL = frozenset({State.COMPLETED, State.FAILED})

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="bulk_notes"
    )
    text = models.TextField()
    event_date = models.DateField(null=True, blank=True, help_text="Empty: the note is dated when posted.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Moved on every change: the page's poll and the case page's live stamp read it.
    updated_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12, choices=State.choices, default=State.SENDING, db_index=True)
    action = models.OneToOneField(
        OutboxAction, null=True, blank=True, on_delete=models.PROTECT, related_name="bulk_note"
    )
    job_id = models.CharField(max_length=64, blank=True, help_text="Debitura's ingestion job id.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_succeeded = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0)
    # The next poll is due then; a poll claims the job by moving it ahead, and the sweep queues
    # one for a job whose due poll never ran (a worker that died, a lost message).
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True, help_text="In words, for the agent.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk note {self.pk} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL

    @property
    def rows_processed(self) -> int:
        return self.rows_succeeded + self.rows_failed


class BulkNoteCase(models.Model):
    """One case of a bulk note and whether the note reached its timeline."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    bulk_note = models.ForeignKey(BulkNote, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="bulk_notes")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    reason = models.TextField(blank=True, help_text="Why the note is not on the case, for the agent.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bulk_note", "case__reference"]
        constraints = [models.UniqueConstraint(fields=["bulk_note", "case"], name="bulknotecase_once")]
        indexes = [models.Index(fields=["case", "bulk_note"], name="bulknotecase_case")]

    def __str__(self) -> str:
        return f"{self.case_id} in bulk note {self.bulk_note_id} ({self.state})"
