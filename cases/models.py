"""The local copy of Debitura's cases, their children, and the bookkeeping of syncing them.

Everything here mirrors Debitura: the API is the truth and a sync overwrites local values. The
raw JSON of the last answer is kept beside the typed columns. The agents' actions are rows of the
outbox (outbox.models).

Over 400 lines on purpose: one model per Debitura object the portal mirrors, each with its
indexes (the case's own list, one per sortable column, is long) and the invariants it keeps.
They form one schema that the migrations read as a whole; spreading them over modules would
only make a reader open several to see one table's neighbours. The choices and the words for
stored values are cases/choices.py (re-exported here).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.choices import DOCUMENT_TYPE_LABELS, TIMELINE_ACTORS, CloseCodeChoices, LifecycleChoices


def money_field(**options: Any) -> models.DecimalField:
    """An amount: Decimal with room for large claims and currencies with three decimals."""
    return models.DecimalField(max_digits=20, decimal_places=4, **options)


class TeamMember(models.Model):
    """A member of the agency's team at Debitura (GET /users), linked to a portal user by email."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(db_index=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_member"
    )
    active = models.BooleanField(default=True, help_text="Still listed by Debitura's GET /users.")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Case(models.Model):
    """A case assigned to the agency, as Debitura last reported it (InvoiceDto)."""

    id = models.UUIDField(primary_key=True, help_text="Debitura's case id.")
    reference = models.CharField(max_length=32, help_text="Debitura's reference, e.g. Q8OAXF3W.")
    creditor_reference = models.CharField(max_length=128, blank=True)
    partner_reference = models.CharField(
        max_length=128,
        blank=True,
        help_text="The agency's own reference, set when the case was accepted.",
    )
    is_test_case = models.BooleanField(default=False)

    lifecycle = models.CharField(max_length=32, choices=LifecycleChoices.choices)
    close_code = models.CharField(max_length=48, choices=CloseCodeChoices.choices, blank=True)
    engagement_phase = models.CharField(
        max_length=32, blank=True, help_text="Pre-legal, Legal or Enforcement."
    )
    claim_type = models.CharField(max_length=64, blank=True)
    claim_description = models.TextField(blank=True)
    creditor_comments = models.TextField(blank=True)
    dispute_status = models.CharField(max_length=64, blank=True)
    needs_info = models.BooleanField(default=False)
    solution_url = models.URLField(max_length=500, blank=True)

    currency = models.CharField(max_length=3)
    gross_amount = money_field(help_text="Principal.")
    interest_fees = money_field(default=0)
    reminder_fees = money_field(default=0)
    collection_fees = money_field(default=0)
    total_added_fees = money_field(default=0)
    remainder = money_field()
    outstanding_principal = money_field(null=True, blank=True)
    outstanding_interest = money_field(null=True, blank=True)
    outstanding_reminder_fees = money_field(null=True, blank=True)
    outstanding_collection_fees = money_field(null=True, blank=True)
    success_fee = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True, help_text="Pre-legal success fee, percent."
    )
    age_uplift_points = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)

    date_created = models.DateTimeField(null=True, blank=True, help_text="When Debitura created the case.")
    claim_date = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(null=True, blank=True)
    date_collection_started = models.DateTimeField(null=True, blank=True)
    exclusive_period_end = models.DateTimeField(null=True, blank=True)

    debtor_type = models.CharField(max_length=32, blank=True)
    debtor_name = models.CharField(max_length=300, blank=True)
    debtor_contact_person = models.CharField(max_length=300, blank=True)
    debtor_registration_number = models.CharField(max_length=100, blank=True)
    debtor_address = models.CharField(max_length=500, blank=True)
    debtor_zip_code = models.CharField(max_length=32, blank=True)
    debtor_city = models.CharField(max_length=200, blank=True)
    debtor_state = models.CharField(max_length=200, blank=True)
    debtor_country_code = models.CharField(max_length=2, blank=True)
    debtor_country = models.CharField(max_length=100, blank=True)
    debtor_email = models.CharField(max_length=254, blank=True)
    debtor_phone = models.CharField(max_length=64, blank=True)

    creditor_id = models.UUIDField(null=True, blank=True)
    creditor_name = models.CharField(max_length=300, blank=True)
    creditor_registration_number = models.CharField(max_length=100, blank=True)
    creditor_email = models.CharField(max_length=254, blank=True)
    creditor_phone = models.CharField(max_length=64, blank=True)
    creditor_address = models.CharField(max_length=500, blank=True)
    creditor_zip_code = models.CharField(max_length=32, blank=True)
    creditor_city = models.CharField(max_length=200, blank=True)
    creditor_state = models.CharField(max_length=200, blank=True)
    creditor_country = models.CharField(max_length=100, blank=True)
    creditor_division_id = models.UUIDField(null=True, blank=True)
    creditor_division_name = models.CharField(max_length=200, blank=True)

    debitura_assignee_email = models.CharField(
        max_length=254, blank=True, help_text="Assigned user at Debitura."
    )
    debitura_assignee_name = models.CharField(max_length=200, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,  # case_assignee_id starts with it
    )

    # Lower-cased references, names, emails and phones: one indexed column for the search box.
    search_text = models.TextField(blank=True, editable=False)

    raw = models.JSONField(default=dict, help_text="The case object as Debitura last sent it.")
    # Compared instead of `raw` to find what a page left unchanged, without reading the JSON back.
    raw_hash = models.CharField(
        max_length=32, blank=True, editable=False, help_text="BLAKE2b-128 of the JSON text stored in raw."
    )
    remote_updated_at = models.DateTimeField(null=True, blank=True, help_text="Debitura's dateUpdated.")
    synced_at = models.DateTimeField(
        default=timezone.now, help_text="When this copy was last written from Debitura."
    )
    children_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="Timeline, chat, payments, files."
    )
    children_stale = models.BooleanField(
        default=True, help_text="Children need a refresh (remote stamp changed)."
    )
    children_priority = models.PositiveSmallIntegerField(
        default=0, help_text="Child-refresh queue order: 2 opened by an agent, 1 open case, 0 closed."
    )
    children_error = models.TextField(
        blank=True, help_text="Why the last refresh of the children failed; empty once one worked."
    )
    children_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Child refreshes failed in a row; each doubles the wait before the next."
    )
    children_retry_at = models.DateTimeField(
        null=True, blank=True, help_text="After a failed child refresh the queue skips the case until then."
    )
    gone_at = models.DateTimeField(
        null=True, blank=True, help_text="No longer visible to the agency at Debitura."
    )
    first_opened_at = models.DateTimeField(null=True, blank=True, help_text="First opened in the portal.")
    unread_messages = models.PositiveIntegerField(
        default=0, help_text="Chat messages from the creditor's side no agent has seen yet (cases.unread)."
    )

    # Exclusive period (GET /cases/{id}/exclusive-period); the chain is in ExclusivityExtension.
    exclusivity_start = models.DateTimeField(null=True, blank=True)
    exclusivity_status = models.CharField(max_length=64, blank=True)
    creditor_responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-remote_updated_at"]
        # Every index costs each synced row a write. Exact lookups on the references need no
        # LIKE-pattern twin (the search box has search_text), so they are declared here rather
        # than with db_index, which on PostgreSQL adds a varchar_pattern_ops copy of each.
        indexes = [
            models.Index(fields=["lifecycle", "-remote_updated_at"], name="case_lifecycle_updated"),
            models.Index(fields=["close_code"], name="case_close_code"),
            models.Index(fields=["currency"], name="case_currency"),
            models.Index(fields=["debtor_country_code"], name="case_debtor_country"),
            models.Index(fields=["debtor_type"], name="case_debtor_type"),
            # One per sortable column, ending with the id as the list's ORDER BY does (cases.keyset
            # SORTS): a page is then read off the index even where many rows tie on the column.
            models.Index(fields=["reference", "id"], name="case_reference_id"),
            models.Index(fields=["partner_reference", "id"], name="case_partner_reference_id"),
            models.Index(fields=["debtor_name", "id"], name="case_debtor_name_id"),
            models.Index(fields=["creditor_name", "id"], name="case_creditor_name_id"),
            models.Index(fields=["lifecycle", "id"], name="case_lifecycle_id"),
            models.Index(fields=["engagement_phase", "id"], name="case_phase_id"),
            models.Index(fields=["gross_amount", "id"], name="case_gross_amount_id"),
            models.Index(fields=["remainder", "id"], name="case_remainder_id"),
            models.Index(fields=["date_created", "id"], name="case_date_created_id"),
            models.Index(fields=["due_date", "id"], name="case_due_date_id"),
            models.Index(fields=["remote_updated_at", "id"], name="case_updated_id"),
            models.Index(fields=["assigned_to", "id"], name="case_assignee_id"),  # one seek per assignee
            models.Index(fields=["needs_info"], name="case_needs_info"),
            models.Index(fields=["dispute_status"], name="case_dispute"),
            models.Index(fields=["creditor_reference"], name="case_creditor_reference"),
            models.Index(fields=["gone_at"], name="case_gone"),
            models.Index(
                fields=["children_stale", "-children_priority", "remote_updated_at"], name="case_child_queue"
            ),
            # The first import's progress: cases whose children were never fetched, and the rate.
            models.Index(
                fields=["children_synced_at"],
                condition=models.Q(gone_at__isnull=True),
                name="case_children_synced",
            ),
            # Only cases with unread messages: the navigation's total reads these few rows.
            models.Index(
                fields=["is_test_case", "unread_messages"],
                condition=models.Q(unread_messages__gt=0, gone_at__isnull=True),
                name="case_unread",
            ),
        ]
        permissions = [("sync_cases", "Can start a sync with Debitura")]

    def __str__(self) -> str:
        return f"{self.reference} {self.debtor_name}".strip()

    @property
    def is_disputed(self) -> bool:
        """Debitura's ClaimDisputeStatus says "Yes, the claim is disputed" (not "No…" or "Don't Know")."""
        return self.dispute_status.lower().startswith("yes")

    @property
    def is_open(self) -> bool:
        """Active, paused or waiting for details: the states where agents work."""
        return self.lifecycle in {
            LifecycleChoices.ACTIVE,
            LifecycleChoices.PAUSED,
            LifecycleChoices.NEEDS_ADDITIONAL_DETAILS,
        }


class CaseCount(models.Model):
    """Visible cases per lifecycle, assignee and test flag, kept by triggers on the case table.

    The list's tab counts read these few rows instead of counting the case table. Migration 0007
    creates the triggers: on SQLite one row per group, on PostgreSQL changes added up when read
    (see cases.counts).
    """

    lifecycle = models.CharField(max_length=32)
    assignee = models.IntegerField(default=0, help_text="The assigned user's id; 0 for nobody.")
    is_test_case = models.BooleanField(default=False)
    cases = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.lifecycle}/{self.assignee}/{self.is_test_case}: {self.cases}"


class TimelineItem(models.Model):
    """One entry of a case's timeline (notes appear here too)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    position = models.PositiveIntegerField(help_text="Order as Debitura listed it.")
    date = models.DateTimeField(null=True, blank=True)
    type = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    actor_type = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "position"], name="timeline_case_position")]

    def __str__(self) -> str:
        return self.title

    @property
    def actor_label(self) -> str:
        """Who did it: the person's name, else whose side it came from ("Agency", "Creditor", "System")."""
        return self.actor_name or TIMELINE_ACTORS.get(self.actor_type, self.actor_type)


class ChatMessage(models.Model):
    """A chat message between the agency and the creditor."""

    class Role(models.IntegerChoices):
        PARTNER = 0, "Agency"
        CREDITOR = 1, "Creditor"
        MANAGING_PARTNER = 2, "Managing partner"

    id = models.UUIDField(primary_key=True, help_text="Debitura's chat message id.")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="chat_messages")
    date_created = models.DateTimeField(null=True, blank=True)
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    role_label = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    is_seen = models.BooleanField(default=False, help_text="Debitura says it was seen (in its own portal).")
    seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone who works cases first saw it in the portal."
    )
    author_email = models.CharField(max_length=254, blank=True)
    author_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["case", "date_created"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.message[:40]}"

    @property
    def is_unread(self) -> bool:
        """From the creditor's side, and neither seen at Debitura nor opened here (cases.unread)."""
        return self.role != self.Role.PARTNER and not self.is_seen and self.seen_at is None


class CaseFile(models.Model):
    """A document on a case at Debitura; `url` is a signed link that expires."""

    id = models.UUIDField(primary_key=True, help_text="Debitura's file id.")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    file_name = models.CharField(max_length=300)
    url = models.URLField(max_length=2000, blank=True)
    url_fetched_at = models.DateTimeField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    document_type = models.CharField(max_length=64, blank=True)
    entity_type = models.CharField(max_length=64, blank=True)
    date_created = models.DateTimeField(null=True, blank=True)
    # Debitura gives neither: known for files uploaded here, and the size once a file was opened.
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes, where known.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The portal user who uploaded it, for files uploaded here.",
    )

    class Meta:
        ordering = ["case", "-date_created"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def document_type_label(self) -> str:
        """Debitura's document type in words ("Demand letter"); unknown ones as they came."""
        return DOCUMENT_TYPE_LABELS.get(self.document_type, self.document_type)


class ExclusivityExtension(models.Model):
    """One link of a case's exclusive-period chain (promise to pay, agreement, payment)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exclusivity_extensions")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=64, blank=True)
    event_date = models.DateTimeField(null=True, blank=True)
    new_end_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "position"]

    def __str__(self) -> str:
        return f"{self.type} → {self.new_end_date:%Y-%m-%d}" if self.new_end_date else self.type


class ValidationItem(models.Model):
    """Something the creditor still has to provide before the case can be worked."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="validation_items")
    resolution_area = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return self.resolution_area or self.description[:40]


class SyncRun(models.Model):
    """One pass of pulling cases from Debitura, with what it changed."""

    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        FULL = "full", "Full reconcile"
        CASE = "case", "Single case"
        CATCH_UP = "catch_up", "Webhook catch-up"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    high_water_mark = models.DateTimeField(null=True, blank=True, help_text="Newest dateUpdated seen.")

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def succeeded(self) -> bool:
        return self.finished_at is not None and not self.error


class ChildrenProgress(models.Model):
    """How far the children (timeline, chat, payments, files ...) of every case have been fetched:
    one row, measured by the children queue after each batch, read by the pages' notices."""

    done = models.PositiveIntegerField(default=0, help_text="Visible cases whose children were fetched.")
    total = models.PositiveIntegerField(default=0, help_text="Visible cases.")
    per_minute = models.FloatField(default=0.0, help_text="Cases a minute: measured lately, else expected.")
    measured = models.BooleanField(default=False, help_text="The rate was measured, not expected.")
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "children progress"

    def __str__(self) -> str:
        return f"{self.done} of {self.total} cases with their children"

    @property
    def incomplete(self) -> bool:
        return self.done < self.total

    @property
    def percent(self) -> int:
        return self.done * 100 // self.total if self.total else 100

    @property
    def minutes_left(self) -> float | None:
        return (self.total - self.done) / self.per_minute if self.per_minute > 0 else None

    @property
    def left_in_words(self) -> str:
        """The estimate as a person says it: "about 2 h 5 min", "about 12 min"."""
        minutes = self.minutes_left
        if minutes is None:
            return "an unknown time"
        if minutes < 1:
            return "less than a minute"
        hours, rest = divmod(round(minutes), 60)
        return f"about {hours} h {rest} min" if hours else f"about {rest} min"


class WebhookEvent(models.Model):
    """A webhook delivery from Debitura, stored raw before anything is done with it."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate"
        REJECTED = "rejected", "Rejected (signature)"
        FAILED = "failed", "Failed"

    event_id = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text="The envelope's id (a hash of the body when it has none, of the id when it is longer).",
    )
    event_type = models.CharField(max_length=64, blank=True)
    case_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    signature_valid = models.BooleanField(default=False)
    signature_error = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # Refused deliveries only: keeping the newest few hundred reads a short index.
            models.Index(fields=["id"], condition=models.Q(state="rejected"), name="webhook_rejected"),
        ]
        constraints = [
            # One processed delivery per event id; duplicates are stored as DUPLICATE rows.
            models.UniqueConstraint(
                fields=["event_id"],
                condition=models.Q(signature_valid=True) & ~models.Q(state="duplicate"),
                name="webhook_event_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} {self.event_id}"


class WebhookSubscription(models.Model):
    """The portal's subscription at Debitura; the signing secret is never shown or logged."""

    id = models.UUIDField(primary_key=True, help_text="Debitura's subscription id.")
    url = models.URLField(max_length=1024)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=200, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url
