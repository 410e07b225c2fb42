"""The two panels that wait for other parts of issue 14: they render nothing until wired.

TODO(lead, after merging `worklist` and `promises`): make these call the real services and the
panels appear (templates/dashboard/_tasks_due.html and _promises.html are ready for them):
- tasks_due_read: the worklist's due and overdue Task rows of the user's cases (and the
  unassigned), counted by kind, due_at before the end of today; overdue = due_at in the past.
- promise_rates_read: promises.services.promise_kept_rates(since=period.start, until=period.today)
  (rows: agent, month, kept, broken, open), summed per agent over the period.
"""

from __future__ import annotations

from typing import Any

from dashboard.periods import Period


def tasks_due_read(*, user: Any) -> list[dict[str, Any]] | None:
    """The user's due and overdue tasks by kind ({"kind", "label", "due", "overdue", "url"});
    None until the worklist is wired (the panel is then left out)."""
    return None


def promise_rates_read(*, period: Period) -> list[dict[str, Any]] | None:
    """Promises kept, broken and open per agent over the period ({"agent", "kept", "broken",
    "open"}); None until the promises app is wired (the panel is then left out)."""
    return None
