"""What exports keep: each user's chosen columns, and the documents archives built for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportSettings(models.Model):
    """A user's remembered choices on the export dialog (the case columns, the format)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case_columns = models.JSONField(default=list, help_text="Column keys in exports.columns order.")
    file_format = models.CharField(max_length=8, default="csv")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "export settings"

    def __str__(self) -> str:
        return f"Export settings of {self.user}"


class ExportJob(models.Model):
    """A file built by a worker for its owner: a ZIP of case documents (one case, or every case
    of a list filter), or a large case export as an XLSX workbook."""

    class Kind(models.TextChoices):
        DOCUMENTS = "documents", "Documents (ZIP)"
        WORKBOOK = "workbook", "Cases (XLSX)"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DOCUMENTS)
    columns = models.JSONField(default=list, blank=True, help_text="A workbook's column keys.")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The one case archived; empty for a list filter.",
    )  # fmt: skip
    query = models.CharField(
        max_length=2000, blank=True, help_text="The case list's query string whose cases are archived."
    )
    label = models.CharField(max_length=300, blank=True, help_text="What the file holds, in words.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    cases_total = models.PositiveIntegerField(null=True, blank=True)
    cases_done = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_path = models.CharField(max_length=500, blank=True, help_text="Under VAR_DIR/exports.")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(
        blank=True, help_text="Why the whole file failed (an archive's failed files are in its manifest)."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="export_job_user_created"),
            models.Index(fields=["state", "expires_at"], name="export_job_state_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.get_state_display()})"

    @property
    def is_workbook(self) -> bool:
        return self.kind == self.Kind.WORKBOOK

    @property
    def finished(self) -> bool:
        return self.state in (self.State.READY, self.State.FAILED, self.State.EXPIRED)
