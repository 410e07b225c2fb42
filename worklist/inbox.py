"""Reading the inbox: one page of visible tasks in deadline order, and the navigation's count.

Every read walks one of the task indexes (worklist.models) in (due_at, id) order from a keyset
cursor and stops after a page, so its cost does not grow with the number of cases or tasks. "Mine
and unassigned" is two such walks merged here: an OR of two assignees would make the database
collect and sort every match before the first row.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.sla import duration_words
from worklist.models import Task

PAGE_SIZE = 50
# The navigation says "99+" beyond this: counting stops at the cap, so the count stays cheap.
NAV_CAP = 100
MINE = ""  # mine and the unassigned: everyone's default
EVERYONE = "all"
NOBODY = "none"


@dataclass(frozen=True)
class InboxPage:
    tasks: list[Task]
    next_cursor: str  # empty on the last page


def cursor_of(task: Task) -> str:
    return f"{task.due_at.isoformat()}|{task.pk}"


def _after(tasks: QuerySet[Task], cursor: str) -> QuerySet[Task]:
    due_text, _, pk_text = cursor.partition("|")
    try:
        due = parse_datetime(due_text)
    except ValueError:  # well-formed but no such moment: a hand-edited link starts over
        due = None
    pk = int(pk_text) if pk_text.isdigit() else None
    if due is None or pk is None:
        return tasks
    # due_at__gte bounds the index range; the OR picks up the ties after the cursor's id.
    return tasks.filter(Q(due_at__gt=due) | Q(due_at=due, id__gt=pk), due_at__gte=due)


# What a row shows: the task, its case's names and its assignee's.
_COLUMNS = [
    *("id", "kind", "key", "due_at", "visible_from", "reason", "url", "action", "case_id", "assignee_id"),
    *("case__reference", "case__partner_reference", "case__debtor_name", "case__creditor_name"),
    *("case__lifecycle", "assignee__username", "assignee__first_name", "assignee__last_name"),
]


def _walk(base: QuerySet[Task], cursor: str, limit: int) -> list[Task]:
    tasks = _after(base, cursor) if cursor else base
    return list(tasks.select_related("case", "assignee").only(*_COLUMNS).order_by("due_at", "id")[:limit])


def inbox_page(*, user: Any, whose: str = MINE, kind: str = "", cursor: str = "") -> InboxPage:
    """A page of the visible tasks for `whose` (MINE: the user's and the unassigned; EVERYONE;
    NOBODY; or a user's id), of one kind or all, after `cursor`."""
    base = Task.objects.filter(visible=True)
    if kind:
        base = base.filter(kind=kind)
    limit = PAGE_SIZE + 1
    if whose == MINE:
        walks: Sequence[list[Task]] = (
            _walk(base.filter(assignee=user), cursor, limit),
            _walk(base.filter(assignee__isnull=True), cursor, limit),
        )
        rows = list(heapq.merge(*walks, key=lambda task: (task.due_at, task.pk)))[:limit]
    elif whose == EVERYONE:
        rows = _walk(base, cursor, limit)
    elif whose == NOBODY:
        rows = _walk(base.filter(assignee__isnull=True), cursor, limit)
    else:
        rows = _walk(base.filter(assignee_id=int(whose)), cursor, limit)
    shown = rows[:PAGE_SIZE]
    return InboxPage(tasks=shown, next_cursor=cursor_of(shown[-1]) if len(rows) > PAGE_SIZE else "")


def deadline_words(due: datetime, now: datetime) -> str:
    """ "overdue by 2 d 4 h", "due in 5 h": beside the deadline itself."""
    if due < now:
        return f"overdue by {duration_words(now - due)}"
    return f"due in {duration_words(due - now)}"


def end_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class NavCount:
    """Visible tasks due today or overdue on the user's cases and the unassigned, up to NAV_CAP."""

    count: int

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        return f"{NAV_CAP - 1}+" if self.count >= NAV_CAP else str(self.count)


def nav_count(*, user: Any, now: datetime | None = None) -> NavCount:
    """One query: two index range scans that stop at NAV_CAP rows each, cheap at any number of tasks."""
    due = Task.objects.filter(visible=True, due_at__lt=end_of_today(now or timezone.now()))
    parts = [
        due.filter(assignee=user).values("id")[:NAV_CAP].query.sql_with_params(),
        due.filter(assignee__isnull=True).values("id")[:NAV_CAP].query.sql_with_params(),
    ]
    # Both parts are Django's own SQL with their parameters kept apart: nothing from the request.
    sql = " + ".join(f"(SELECT COUNT(*) FROM ({part}) AS p{n})" for n, (part, _) in enumerate(parts))  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", [param for _, params in parts for param in params])
        (count,) = cursor.fetchone()
    return NavCount(min(NAV_CAP, int(count)))


@dataclass(frozen=True)
class DueByKind:
    """How many of a user's (and the unassigned) visible tasks of one kind are due today or overdue."""

    kind: str
    due: int
    overdue: int


def tasks_due_by_kind(*, user: Any, now: datetime | None = None) -> list[DueByKind]:
    """The dashboard's "my due and overdue tasks": one grouped query over the inbox's indexes."""
    now = now or timezone.now()
    rows = (
        Task.objects.filter(visible=True, due_at__lt=end_of_today(now))
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .values("kind")
        .annotate(
            due_count=Count("id", filter=Q(due_at__gte=now)),
            overdue_count=Count("id", filter=Q(due_at__lt=now)),
        )
        .order_by("kind")
    )
    return [DueByKind(kind=row["kind"], due=row["due_count"], overdue=row["overdue_count"]) for row in rows]
