"""Keeping the tasks current: the cases' and the outbox's signals, answered with tasks_refresh.

Both signals go out after the writer's commit and in its thread (the sync's writer, the relay's
worker, the agent's request), so an agent who acts comes back to an inbox without the task: the
refresh runs before the response that redirects there. A refresh costs a few queries per batch
of cases (worklist.services), whatever the number of cases in the database.
"""

from __future__ import annotations

from typing import Any

from cases.changes import cases_changed
from outbox.signals import action_settled
from worklist.services import tasks_refresh


def on_cases_changed(sender: Any, *, case_ids: list[str], **kwargs: Any) -> None:
    tasks_refresh(case_ids=case_ids)


def on_action_settled(sender: Any, *, case_id: str, **kwargs: Any) -> None:
    tasks_refresh(case_ids=[case_id])


def receivers_connect() -> None:
    """Connect the receivers (WorklistConfig.ready); connecting twice is a no-op (dispatch_uid)."""
    cases_changed.connect(on_cases_changed, dispatch_uid="worklist.cases_changed")
    action_settled.connect(on_action_settled, dispatch_uid="worklist.action_settled")
