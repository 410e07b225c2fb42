"""The outbox row: an agent's action waiting for, or done by, Debitura.

The table keeps the name it had when the model lived in `cases` (cases_outboxaction): rows
written then are the same rows. The case is referred to by its label ("cases.Case"), so this
module imports no app; an action on a case belongs to it, and a case's actions go out in order.
An action that creates what has no case here (a case submitted as managing partner) has none and
is held back by nothing.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class OutboxAction(models.Model):
    """An agent's action waiting for, or done by, Debitura: the audit record of who did what.

    Kind lists every app's kinds here rather than taking them from the apps' registrations: they
    are the stored column's vocabulary (admin filters, get_kind_display wherever a page names an
    action), and Django writes a field's choices into its migrations, so choices filled in from
    the apps' ready() would be empty when migrations are made, and callable choices would mean
    migrating the field. The outbox still imports no app: how each kind is sent, checked, confirmed
    and undone is registered by the app that owns it (outbox.registry), and the system check
    outbox.E001 fails when a kind listed here has no handler.
    """

    class Kind(models.TextChoices):
        # The column's vocabulary, so that the admin filters and pages can name a row's kind; how
        # each kind is sent lives in the app that owns it (outbox.registry, handlers_check).
        ACCEPT = "accept", "Accept"
        DECLINE = "decline", "Decline"
        CLOSE = "close", "Close"
        NOTE = "note", "Note"
        CHAT = "chat", "Chat message"
        FEES = "fees", "Fees update"
        PAYMENT_CREATE = "payment_create", "Record payment"
        PAYMENT_UPDATE = "payment_update", "Correct payment"
        PAYMENT_DELETE = "payment_delete", "Delete payment"
        FILE_UPLOAD = "file_upload", "Upload file"
        MANAGED_SUBMIT = "managed_submit", "Submit case"
        # One ingestion job for many cases (bulknotes), written on the first of them.
        BULK_NOTE = "bulk_note", "Bulk progress note"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="actions"
    )
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=255, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set when a send may have reached Debitura without an answer: check the case before resending.
    uncertain = models.BooleanField(default=False)
    last_error = models.TextField(blank=True, help_text="In words, for the agent.")
    response = models.JSONField(null=True, blank=True, help_text="Debitura's answer.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Renewed by the sending worker while the send is alive; a row whose heartbeat stopped for
    # OUTBOX_LEASE_SECONDS belongs to a dead worker and is taken back.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_outboxaction"
        ordering = ["created_at"]
        indexes = [
            # The relay's claim reads the due rows off this index in its ORDER BY, so it stops
            # at the first few a case's earlier rows do not hold back instead of sorting them all.
            models.Index(fields=["state", "next_attempt_at", "created_at"], name="outbox_due_order"),
            models.Index(fields=["case", "created_at"], name="outbox_case_order"),
        ]

    def __str__(self) -> str:
        on = f" on {self.case_id}" if self.case_id else ""
        return f"{self.get_kind_display()}{on} ({self.state})"
