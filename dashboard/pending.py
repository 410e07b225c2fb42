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


def _kept_rate(kept: int, broken: int) -> int | None:
    """Kept as a share of the promises that are decided (kept or broken), in whole percent."""
    return round(100 * kept / (kept + broken)) if kept + broken else None


def promise_rates_read(*, period: Period) -> list[dict[str, Any]]:
    """Promises recorded in the period per agent ({"agent", "kept", "broken", "open", "rate",
    "months"}), most promises first; "months" holds the same figures per calendar month."""
    since = timezone.make_aware(datetime.combine(period.start, time.min))
    until = timezone.now()
    totals: dict[Any, dict[str, Any]] = defaultdict(lambda: {"kept": 0, "broken": 0, "open": 0, "months": []})
    for rate in promise_kept_rates(since=since, until=until):
        row = totals[rate.agent_id]
        row["agent"] = rate.agent
        row["kept"] += rate.kept
        row["broken"] += rate.broken
        row["open"] += rate.open
        row["months"].append(
            {
                "month": rate.month,
                "kept": rate.kept,
                "broken": rate.broken,
                "open": rate.open,
                "rate": _kept_rate(rate.kept, rate.broken),
            }
        )
    for row in totals.values():
        row["rate"] = _kept_rate(row["kept"], row["broken"])
    return sorted(
        totals.values(), key=lambda row: (-(row["kept"] + row["broken"] + row["open"]), row["agent"])
    )
