"""Payments on cases: Debitura's records plus the agency's own, still on their way."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases.models import Case, money_field
from outbox.models import OutboxAction


class Payment(models.Model):
    """A payment on a case; `remote_id` is empty until Debitura has confirmed it."""

    class Recipient(models.TextChoices):
        COLLECTION_PARTNER = "CollectionPartner", "The agency"
        CREDITOR = "Creditor", "The creditor"
        PLATFORM = "Platform", "Debitura"

    class CommissionStatus(models.TextChoices):
        PAID = "Paid", "Paid"
        UNPAID = "Unpaid", "Unpaid"

    class State(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"
        DELETING = "deleting", "Being deleted"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="payments")
    remote_id = models.UUIDField(null=True, blank=True, help_text="Debitura's payment id.")
    date = models.DateField()
    amount = money_field()
    currency = models.CharField(max_length=3)
    recipient = models.CharField(max_length=32, blank=True, help_text="As Debitura reports it.")
    method = models.CharField(max_length=64, blank=True)
    invoice_status = models.CharField(
        max_length=64, blank=True, help_text="Debitura's invoicing state; invoiced is frozen."
    )
    commission_status = models.CharField(max_length=8, choices=CommissionStatus.choices, blank=True)
    payout_creditor = money_field(null=True, blank=True)
    payout_partner = money_field(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    frozen_reason = models.TextField(
        blank=True, help_text="Why Debitura refuses to change it (its payout was invoiced), in its words."
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.CONFIRMED, db_index=True)
    action = models.ForeignKey(
        OutboxAction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
        help_text="The outbox row that created or last changed it.",
    )
    date_created = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["date"], name="payment_date"),
            models.Index(fields=["currency", "date"], name="payment_currency_date"),
            models.Index(fields=["case", "date"], name="payment_case_date"),
        ]
        constraints = [
            # Debitura's id names a payment within its case. Ids have repeated across cases (an
            # emulator restarted with the same seed): a payment is matched within its case only
            # and never moved to another one.
            models.UniqueConstraint(
                fields=["case", "remote_id"],
                condition=models.Q(remote_id__isnull=False),
                name="payment_remote_id_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.date}"

    @property
    def recipient_label(self) -> str:
        """Who received the money, in words (Debitura's value when it is one we do not know)."""
        return dict(self.Recipient.choices).get(self.recipient, self.recipient)

    @property
    def can_change(self) -> bool:
        """Whether an agent may still correct or delete it here."""
        return self.state == self.State.CONFIRMED and not self.frozen_reason
