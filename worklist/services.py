"""Keeping the tasks equal to what their sources derive: per batch of cases, and for every case.

tasks_refresh runs after each committed change of case data (worklist.receivers), the nightly
rebuild walks every case (first install, and a safety net for what no signal covered: time
passing an exclusive period's end, a failed row ageing out), and tasks_show_due makes the tasks
whose time has come visible (every minute).

Two refreshes of one case at once (the sync's writer and the relay) each write what they read;
the upsert on the task's key keeps them from colliding, and the later one wins.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.models import Case
from worklist.models import Task
from worklist.sources import TaskSpec, sources

log = logging.getLogger(__name__)

# Cases per refresh transaction: a batch costs the same few queries at any size up to here.
BATCH = 500
_COMPARED = ("kind", "case_id", "due_at", "visible_from", "reason", "url", "action", "assignee_id")


@dataclass
class RefreshResult:
    """What a refresh changed, in tasks."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    batches: int = 0
    keys: list[str] = field(default_factory=list, repr=False)

    def add(self, other: RefreshResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.batches += other.batches


def tasks_refresh(*, case_ids: Iterable[object], now: datetime | None = None) -> RefreshResult:
    """Replace the tasks of these cases with what the sources derive now, BATCH cases a transaction."""
    ids = sorted({str(case_id) for case_id in case_ids})
    result = RefreshResult()
    for start in range(0, len(ids), BATCH):
        result.add(_refresh_batch(ids[start : start + BATCH], now or timezone.now()))
    return result


def _refresh_batch(ids: Sequence[str], now: datetime) -> RefreshResult:
    result = RefreshResult(batches=1)
    with transaction.atomic():
        # Only cases the agency still has, Debitura test cases left out; the others lose their tasks.
        batch = [uuid.UUID(case_id) for case_id in ids]
        assignees = {
            str(case_id): assignee
            for case_id, assignee in Case.objects.filter(
                id__in=batch, gone_at__isnull=True, is_test_case=False
            ).values_list("id", "assigned_to_id")
        }
        # UUIDs, not text: every source filters on them, and Django would parse each text again.
        live = [uuid.UUID(case_id) for case_id in assignees]
        wanted: dict[str, TaskSpec] = {}
        if live:
            for source in sources():
                for spec in source.derive(live):
                    if str(spec.case_id) in assignees:
                        wanted[spec.key] = spec
        existing = {
            task.key: task
            for task in Task.objects.filter(case_id__in=batch).only("id", "key", "visible", *_COMPARED)
        }
        gone = [task.pk for key, task in existing.items() if key not in wanted]
        if gone:
            result.deleted = Task.objects.filter(pk__in=gone).delete()[0]
        writes = []
        for key, spec in wanted.items():
            task = Task(
                key=key,
                kind=spec.kind,
                case_id=uuid.UUID(str(spec.case_id)),
                due_at=spec.due_at,
                visible_from=spec.visible_from,
                visible=spec.visible_from <= now,
                reason=spec.reason[:500],
                url=spec.url[:500],
                action=spec.action[:64],
                assignee_id=assignees.get(str(spec.case_id)),
                created_at=now,
                updated_at=now,
            )
            current = existing.get(key)
            if current is None:
                result.created += 1
            elif any(getattr(current, name) != getattr(task, name) for name in _COMPARED) or (
                current.visible != task.visible
            ):
                result.updated += 1
            else:
                continue
            writes.append(task)
        if writes:
            # An upsert on the key: a concurrent refresh that inserted the same task first is
            # overwritten rather than failing this one.
            Task.objects.bulk_create(
                writes,
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=[
                    "kind",
                    "case",
                    "due_at",
                    "visible_from",
                    "visible",
                    "reason",
                    "url",
                    "action",
                    "assignee",
                    "updated_at",
                ],
            )
    return result


def tasks_rebuild(*, batch: int = BATCH, now: datetime | None = None) -> RefreshResult:
    """Refresh the tasks of every case, `batch` cases at a time in id order (a keyset walk), and
    drop tasks whose case is no longer in the table."""
    result = RefreshResult()
    after = None
    while True:
        cases = Case.objects.order_by("id")
        if after is not None:
            cases = cases.filter(id__gt=after)
        ids = list(cases.values_list("id", flat=True)[:batch])
        if not ids:
            break
        result.add(tasks_refresh(case_ids=ids, now=now))
        after = ids[-1]
    log.info(
        "work list rebuilt: %d tasks created, %d updated, %d deleted in %d batches",
        result.created,
        result.updated,
        result.deleted,
        result.batches,
    )
    return result


def tasks_show_due(*, now: datetime | None = None) -> int:
    """Make visible the tasks whose visible_from has come (reads the few waiting ones off their index)."""
    return Task.objects.filter(visible=False, visible_from__lte=now or timezone.now()).update(visible=True)
