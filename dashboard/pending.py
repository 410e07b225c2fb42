"""The panels that read other apps' state: my due and overdue tasks (worklist) and promises kept
or broken per agent (promises)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from dashboard.periods import Period
from promises.services import promise_kept_rates
from worklist.inbox import tasks_due_by_kind
from worklist.sources import kind_label


def tasks_due_read(*, user: Any) -> list[dict[str, Any]]:
    """The user's due and overdue tasks by kind ({"kind", "label", "due", "overdue", "url"}), each
    linking to the inbox filtered to that kind."""
    inbox = reverse("worklist:inbox")
    return [
        {
            "kind": row.kind,
            "label": kind_label(row.kind),
            "due": row.due,
            "overdue": row.overdue,
            "url": f"{inbox}?{urlencode({'kind': row.kind})}",
        }
        for row in tasks_due_by_kind(user=user)
    ]


def promise_rates_read(*, period: Period) -> list[dict[str, Any]]:
    """Promises recorded in the period, kept, broken and open, per agent ({"agent", "kept",
    "broken", "open"}), most promises first."""
    since = timezone.make_aware(datetime.combine(period.start, time.min))
    until = timezone.now()
    totals: dict[Any, dict[str, Any]] = defaultdict(lambda: {"kept": 0, "broken": 0, "open": 0})
    for rate in promise_kept_rates(since=since, until=until):
        row = totals[rate.agent_id]
        row["agent"] = rate.agent
        row["kept"] += rate.kept
        row["broken"] += rate.broken
        row["open"] += rate.open
    return sorted(
        totals.values(), key=lambda row: (-(row["kept"] + row["broken"] + row["open"]), row["agent"])
    )
