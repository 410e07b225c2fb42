"""Promises to pay: what a debtor promised on a case, its instalments and every change made to it.

Debitura has no promise endpoint: each promise, change and cancellation is relayed as a timeline
note (the `action` columns). Kept or broken is summary state, written by promises.evaluation
when payments or the date change, never computed while a page is drawn.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import Case, money_field
from outbox.models import OutboxAction


class PromiseStatus(models.TextChoices):
    """Where a promise (or one instalment) stands."""

    OPEN = "open", "Open"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class Promise(models.Model):
    """A debtor's promise to pay an amount in the case's currency, at once or in instalments."""

    class Interval(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Fortnightly"
        MONTHLY = "monthly", "Monthly"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "E-mail"
        LETTER = "letter", "Letter"
        OTHER = "other", "Other"

    Status = PromiseStatus

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="promises")
    amount = money_field()
    currency = models.CharField(max_length=3)
    first_due = models.DateField(help_text="When the first (or only) instalment is due.")
    instalments = models.PositiveSmallIntegerField(default=1)
    interval = models.CharField(
        max_length=12, choices=Interval.choices, blank=True, help_text="Empty for a single payment."
    )
    made_by = models.CharField(max_length=200, help_text="Who promised, e.g. the debtor's contact.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="promises_recorded"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Moved whenever the promise or its instalments change: the case page's live stamp reads it.
    updated_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    action = models.ForeignKey(
        OutboxAction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promises",
        help_text="The note that relayed the promise to Debitura.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "status"], name="promise_case_status"),
            models.Index(fields=["status", "created_at"], name="promise_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} from {self.first_due}"

    @property
    def can_change(self) -> bool:
        """Whether an agent may still change or cancel it (not once kept or cancelled)."""
        return self.status in (PromiseStatus.OPEN, PromiseStatus.BROKEN)


class PromiseInstalment(models.Model):
    """One instalment of a promise: kept or broken on its own, from the payments allocated to it."""

    promise = models.ForeignKey(Promise, on_delete=models.CASCADE, related_name="schedule")
    position = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount = money_field()
    paid = money_field(default=0, help_text="Payments allocated to it so far.")
    status = models.CharField(max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    kept_on = models.DateField(null=True, blank=True, help_text="The date of the payment that covered it.")

    class Meta:
        ordering = ["promise", "position"]
        constraints = [
            models.UniqueConstraint(fields=["promise", "position"], name="promise_instalment_position")
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="promise_instalment_due")]

    def __str__(self) -> str:
        return f"{self.amount} due {self.due_date}"


class PromiseRevision(models.Model):
    """One change to a promise (recorded, changed, cancelled): who, when, what, why; never edited."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", "Recorded"
        CHANGED = "changed", "Changed"
        CANCELLED = "cancelled", "Cancelled"

    promise = models.ForeignKey(Promise, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="promise_revisions"
    )
    at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(
        default=dict, blank=True, help_text="Each changed field as [before, after], in words and ISO dates."
    )
    reason = models.TextField(blank=True)
    action = models.ForeignKey(
        OutboxAction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promise_revisions",
        help_text="The note that relayed this change to Debitura.",
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
