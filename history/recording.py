"""Writing the history: a case's local changes (explicitly, in bulk) and the log of opened cases.

A change row holds the case's tracked columns after the change; the timeline words a change by
comparing a row with the one before it. The sync may change the assignee between two local
changes without a row (it is not a local change), so before recording, the case's last row is
compared with the "before" the service read under its lock: where they differ, or where there is
no row yet, a baseline row with the "before" goes first, a microsecond earlier. Baselines are
marked by their reason (BASELINE) and never shown as changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from cases.events import LOCAL_FIELDS, CaseChange
from cases.models import Case
from history.models import CaseView
from history.tracked import history_manager, history_model

BASELINE = "Before the first local change, or as the sync left it"
# A user's openings of one case within this many minutes are one row (see CaseView).
VIEW_WINDOW_MINUTES = 15


def _case(case_id: Any, values: dict[str, Any], user: Any) -> Case:
    case = Case(id=case_id, **{name: values[name] for name in LOCAL_FIELDS})
    # Set even when None: else simple-history takes the request's user (HistoryRequestMiddleware)
    # for a baseline, or for a change the relay made on nobody's behalf.
    case._history_user = user  # type: ignore[attr-defined]
    return case


def case_changes_record(
    *, changes: Sequence[CaseChange], actor: Any, reason: str = "", at: datetime | None = None
) -> None:
    """One history row per changed case (after a baseline where needed); three queries at most."""
    if not changes:
        return
    history = history_model("cases.Case")
    at = at or timezone.now()
    ids = [change.case_id for change in changes]
    newest = (
        history._default_manager.filter(id__in=ids)
        .values("id")
        .annotate(last=Max("history_id"))
        .values("last")
    )
    rows: Any = history._default_manager.filter(history_id__in=newest)
    last = {row.id: row for row in rows}
    baselines = []
    for change in changes:
        row = last.get(change.case_id)
        if row is None or any(getattr(row, name) != change.before[name] for name in LOCAL_FIELDS):
            baselines.append(_case(change.case_id, change.before, None))
    if baselines:
        history_manager("cases.Case").bulk_history_create(
            baselines,
            update=True,
            default_change_reason=BASELINE,
            default_date=at - timedelta(microseconds=1),
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    history_manager("cases.Case").bulk_history_create(
        [_case(change.case_id, change.after, user) for change in changes],
        update=True,
        default_change_reason=reason,
        default_date=at,
    )


def case_view_record(*, case: Case, user: Any, at: datetime | None = None) -> None:
    """Log that `user` opened `case`: one INSERT, which does nothing within the same window.

    The unique key (user, case, window) makes the database drop a repeat, so a page load costs
    one statement and no read, and two processes opening the page at once write one row.
    """
    if not getattr(user, "is_authenticated", False):
        return
    at = at or timezone.now()
    window = int(at.timestamp()) // (VIEW_WINDOW_MINUTES * 60)
    CaseView.objects.bulk_create(
        [CaseView(user=user, case=case, opened_at=at, window=window)], ignore_conflicts=True
    )
