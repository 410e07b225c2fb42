"""The work list's tasks: what someone has to do on a case, and by when.

A task is summary state, written when the data behind it changes (worklist.services.tasks_refresh,
called by the receivers in worklist.receivers) and read by the inbox as it is: the inbox never
derives anything per request. Kinds are the sources registered in worklist.sources; the column
has no fixed choices so that another app can register a kind of its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import Case

VISIBLE = models.Q(visible=True)


class Task(models.Model):
    """Something to do on a case by `due_at`, shown from `visible_from`, for the case's assignee."""

    kind = models.CharField(max_length=32, help_text="A source registered in worklist.sources.")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(
        max_length=200,
        unique=True,
        help_text="Names the task within its source (kind, case, the row behind it): refreshes match on it.",
    )
    due_at = models.DateTimeField()
    visible_from = models.DateTimeField(default=timezone.now)
    # visible_from <= now, kept by the write and by worklist.services.tasks_show_due (every minute):
    # the inbox's indexes hold the visible tasks only, in deadline order.
    visible = models.BooleanField(default=True)
    reason = models.CharField(max_length=500, help_text="Why the task exists, in words for the agent.")
    url = models.CharField(max_length=500, help_text="Where it is done: a form or section of the case page.")
    action = models.CharField(max_length=64, help_text="The link's words, e.g. “Reply”.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the inbox indexes start with it
        help_text="The case's assignee in the portal; nobody when the case is unassigned.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The inbox reads one page in deadline order off one of these (worklist.inbox).
            models.Index(fields=["assignee", "due_at", "id"], condition=VISIBLE, name="task_assignee_due"),
            models.Index(
                fields=["kind", "assignee", "due_at", "id"], condition=VISIBLE, name="task_kind_assignee_due"
            ),
            models.Index(fields=["due_at", "id"], condition=VISIBLE, name="task_due"),
            models.Index(fields=["kind", "due_at", "id"], condition=VISIBLE, name="task_kind_due"),
            # The few tasks waiting for their time to show.
            models.Index(fields=["visible_from"], condition=models.Q(visible=False), name="task_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id} by {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def overdue(self) -> bool:
        return self.due_at < timezone.now()
