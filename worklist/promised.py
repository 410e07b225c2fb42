"""The promise kinds of task: promises to pay coming due, and promises broken.

Promises keep their kept/broken state themselves (promises.evaluation) and say which tasks it
makes (promises.services.promises_open_tasks); the work list only stores them, so promises never
imports the work list (pyproject's layers). Tasks follow the promise through cases_changed:
recording, changing or cancelling one is an outbox row (cases' shared write), and an evaluation
that changed a promise announces its cases.

- promise_due: an open promise's next open instalment. Due at the end of its last day of grace
  (the due date + PROMISE_GRACE_DAYS): a payment until then still keeps it. Shown from
  DUE_NOTICE_DAYS (7) before the due date, the tasks being stored ahead (coming_only=False).
- promise_broken: a broken promise that no later promise on its case replaced. Due one business
  day after it broke (the end of its grace), to call the debtor and change or cancel it; shown at
  once. Cancelling or changing it, or a newer promise, ends it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.urls import reverse

from cases.sla import business_deadline
from promises.services import BROKEN, DUE, promises_open_tasks
from worklist.sources import TaskSpec, register_source

BROKEN_FIX_WITHIN = timedelta(days=1)  # business time

ACTIONS = {BROKEN: "Change or cancel it", DUE: "Open the promise"}


def _tasks(case_ids: Sequence[Any], kind: str) -> Iterator[TaskSpec]:
    for task in promises_open_tasks(case_ids=case_ids, coming_only=False, kinds=(kind,)):
        due_at = task.due_at
        if task.kind == BROKEN:
            due_at = business_deadline(task.due_at, BROKEN_FIX_WITHIN)
        yield TaskSpec(
            kind=task.kind,
            case_id=task.case_id,
            # One task per promise and kind: the next instalment takes over the one kept.
            key=f"{task.kind}:{task.promise_id}",
            due_at=due_at,
            visible_from=task.notice_from,
            reason=task.reason,
            url=reverse("promises:detail", args=[task.promise_id]),
            action=ACTIONS[task.kind],
        )


def promise_due(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    return _tasks(case_ids, DUE)


def promise_broken(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    return _tasks(case_ids, BROKEN)


def promised_register() -> None:
    """Register the promise kinds (WorklistConfig.ready)."""
    register_source(DUE, "Promise due", promise_due)
    register_source(BROKEN, "Promise broken", promise_broken)
