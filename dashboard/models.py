"""The dashboard's summary rows: what its panels read instead of scanning cases per request.

dashboard.summaries rebuilds them from the local copy (beat: every DASHBOARD_REFRESH_SECONDS);
nothing else writes them and nothing but the dashboard reads them. `agent` is a user id, 0 for
cases assigned to nobody (as cases_casecount counts them), so a reassigned user never breaks a row.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases.models import money_field


class SummaryRefresh(models.Model):
    """One row: when the summaries were last rebuilt, how long it took, and from which day on."""

    refreshed_at = models.DateTimeField(default=timezone.now)
    since = models.DateField(help_text="The first day the summaries cover.")
    seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"Dashboard summaries of {self.refreshed_at:%Y-%m-%d %H:%M}"


class RecoveredMonth(models.Model):
    """Money recovered in a calendar month and one currency on one agent's cases (currencies never mix)."""

    month = models.DateField(help_text="The first day of the month.")
    currency = models.CharField(max_length=3)
    agent = models.IntegerField(default=0, help_text="The case's assigned user's id; 0 for nobody.")
    payments = models.PositiveIntegerField(default=0)
    amount = money_field(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "currency", "agent"], name="recovered_month_group")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.currency} agent {self.agent}: {self.amount}"


class AssignmentWeek(models.Model):
    """New assignments in a week (Monday first) and how fast they were accepted or declined."""

    week = models.DateField(unique=True, help_text="The Monday of the week.")
    assigned = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0, help_text="Decided within one business day.")
    late = models.PositiveIntegerField(default=0, help_text="Decided later, or still waiting past the day.")
    waiting = models.PositiveIntegerField(default=0, help_text="Not decided yet, still within the day.")
    decided_seconds = models.BigIntegerField(
        default=0, help_text="Business seconds from assignment to decision, summed over the decided ones."
    )
    decided = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Week of {self.week}: {self.assigned} assigned"


class SlaMonth(models.Model):
    """Debitura's timeliness expectations met or missed, per kind, month and agent."""

    class Kind(models.TextChoices):
        VERIFY = "verify", "Verify a new case within 1 business day"
        REPLY = "reply", "Reply to the creditor within 48 business hours"
        UPDATE = "update", "Progress update within 30 days"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    month = models.DateField(
        help_text="The first day of the month it counts in: of the assignment, of the creditor's "
        "message, of the update's deadline."
    )
    agent = models.IntegerField(default=0, help_text="The case's assigned user's id; 0 for nobody.")
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "month", "agent"], name="sla_month_group")]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m} agent {self.agent}: {self.on_time}/{self.late}"


class ExclusivityEnding(models.Model):
    """An open case whose exclusive period ends within the next EXCLUSIVITY_DAYS days."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    ends_at = models.DateTimeField(db_index=True)
    agent = models.IntegerField(default=0)
    # Copied from the case, so the page reads these rows alone: joined to the case table, SQLite
    # walked every case to find the few in here.
    reference = models.CharField(max_length=32)
    debtor_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ends_at"]

    def __str__(self) -> str:
        return f"{self.case_id} ends {self.ends_at:%Y-%m-%d}"
