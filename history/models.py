"""The history app's tables: who opened which case when, and (history.tracked) the historical
models of the tracked ones, created here as this module loads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from history.tracked import TRACKED, history_track

for _tracked in TRACKED:
    history_track(_tracked)


class CaseView(models.Model):
    """A user opened a case's page: at most one row per user, case and window of VIEW_WINDOW_MINUTES."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now, help_text="The first opening in its window.")
    window = models.PositiveIntegerField(
        help_text="Minutes since the epoch divided by the window's length: the unique key's clock."
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # Opening the page again within the window inserts nothing (ON CONFLICT DO NOTHING).
            models.UniqueConstraint(fields=["user", "case", "window"], name="caseview_once_per_window"),
        ]
        indexes = [models.Index(fields=["case", "-opened_at"], name="caseview_case_newest")]

    def __str__(self) -> str:
        return f"{self.user} opened {self.case_id} at {self.opened_at:%Y-%m-%d %H:%M}"
