"""A go-live check's record: one run against DEBITURA_BASE_URL and what each capability did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    """How a step, or a whole run, ended."""

    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class GoLiveRun(models.Model):
    """One go-live check: test cases made under `tag`, worked by the portal, deleted again."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    base_url = models.CharField(max_length=500, help_text="The Debitura API the check ran against.")
    tag = models.CharField(max_length=100, unique=True, help_text="Every test case of the run has this tag.")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    case_ids = models.JSONField(default=list, blank=True, help_text="Debitura's ids of the test cases.")

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        verbose_name = "go-live check run"
        permissions = [("run_golive_check", "Can run the go-live check against Debitura")]

    def __str__(self) -> str:
        return f"Go-live check {self.tag}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class GoLiveStep(models.Model):
    """One capability the check tried, with Debitura's answer (its businessErrors in words)."""

    run = models.ForeignKey(GoLiveRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    capability = models.CharField(max_length=32)
    label = models.CharField(max_length=100)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    detail = models.TextField(blank=True, help_text="What happened, or why it failed or was skipped.")
    answer = models.JSONField(null=True, blank=True, help_text="Debitura's answer, as it came.")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="golive_step_position")]

    def __str__(self) -> str:
        return f"{self.label}: {self.get_outcome_display()}"
