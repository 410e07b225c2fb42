"""A case the agency submitted as managing partner: the submission it wrote, then Debitura's copy
of the case (GET /managed-cases) with its timeline, chat, payments and files as Debitura sent them.

A row is written by the "Submit case" form before Debitura knows the case (no `remote_id` yet,
its outbox row pending), or by the sync for a case submitted elsewhere (Debitura's portal,
another integration). Debitura's copy is read-only: a managing partner follows, it does not work.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import CloseCodeChoices, LifecycleChoices, money_field


class ManagedCase(models.Model):
    """A case submitted as managing partner: the submission, then Debitura's read-only copy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    remote_id = models.UUIDField(
        null=True, blank=True, unique=True, help_text="Debitura's case id, once known."
    )
    submission = models.OneToOneField(
        "outbox.OutboxAction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_case",
        help_text="The outbox row that sends the submission (none for cases submitted elsewhere).",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    reference = models.CharField(max_length=32, blank=True, help_text="Debitura's reference, e.g. Q8OAXF3W.")
    creditor_reference = models.CharField(max_length=128, blank=True)
    is_test_case = models.BooleanField(default=False)
    tag = models.CharField(max_length=100, blank=True, help_text="The test run's tag, as submitted.")
    lifecycle = models.CharField(max_length=32, choices=LifecycleChoices.choices, blank=True)
    close_code = models.CharField(max_length=48, choices=CloseCodeChoices.choices, blank=True)
    engagement_phase = models.CharField(max_length=32, blank=True)

    currency = models.CharField(max_length=3)
    gross_amount = money_field(help_text="Principal.")
    remainder = money_field(null=True, blank=True)
    claim_date = models.DateTimeField(null=True, blank=True, help_text="Invoice date.")
    due_date = models.DateTimeField(null=True, blank=True)
    date_created = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True, help_text="Debitura's dateUpdated.")

    debtor_name = models.CharField(max_length=300, blank=True)
    debtor_country = models.CharField(max_length=100, blank=True, help_text="ISO code, else the name.")
    creditor_name = models.CharField(max_length=300, blank=True)
    partner_name = models.CharField(max_length=300, blank=True, help_text="The collection partner.")

    # Lower-cased reference, references and names: what the list's search box looks in.
    search_text = models.TextField(blank=True, editable=False)
    # The list's order: when the case was submitted here, else when Debitura created it.
    listed_at = models.DateTimeField(default=timezone.now)

    raw = models.JSONField(default=dict, blank=True, help_text="The case object as Debitura last sent it.")
    raw_hash = models.CharField(max_length=32, blank=True, editable=False)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When Debitura's copy was last written."
    )

    # The children, as Debitura last sent them (JSON arrays); fetched again when the case changed.
    timeline = models.JSONField(default=list, blank=True)
    chats = models.JSONField(default=list, blank=True)
    payments = models.JSONField(default=list, blank=True)
    files = models.JSONField(default=list, blank=True)
    children_due = models.BooleanField(
        default=False, help_text="The case changed since its children were read."
    )
    children_synced_at = models.DateTimeField(null=True, blank=True)
    children_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-listed_at", "-id"]
        indexes = [
            models.Index(fields=["-listed_at", "-id"], name="managed_list_order"),
            models.Index(fields=["children_due", "remote_updated_at"], name="managed_children_due"),
        ]

    def __str__(self) -> str:
        return self.reference or f"Submission {str(self.pk)[:8]}"


class ManagedSyncRun(models.Model):
    """One pass over GET /managed-cases, newest change first, with what it changed."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    children = models.PositiveIntegerField(default=0, help_text="Cases whose children were read.")
    error = models.TextField(blank=True)
    high_water_mark = models.DateTimeField(null=True, blank=True, help_text="Newest dateUpdated held.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Managed-case sync at {self.started_at:%Y-%m-%d %H:%M}"
