"""Keeping the tasks current: the cases' and the outbox's signals, answered with tasks_refresh.

Both signals go out after the writer's commit, in its thread. What an agent did (an outbox row
written, a reassignment) and a row that failed, was cancelled or sent again (the relay, an
administrator) are refreshed there and then: the agent's request that redirects back to the
inbox returns after the refresh, so the task has left it. What the sync pulled is refreshed by
a Celery task (worklist.refresh) queued per write, BATCH cases each: a first import writes
thousands of cases a second and should not wait for their tasks; the inbox follows within the
worker's turn.
"""

from __future__ import annotations

from typing import Any

from cases.changes import SYNC, Origin, cases_changed
from outbox.models import OutboxAction
from outbox.signals import action_settled
from worklist.services import BATCH, tasks_refresh
from worklist.tasks import refresh


def on_cases_changed(sender: Any, *, case_ids: list[str], origin: Origin, **kwargs: Any) -> None:
    if origin != SYNC:
        tasks_refresh(case_ids=case_ids)
        return
    for start in range(0, len(case_ids), BATCH):
        refresh.delay(case_ids[start : start + BATCH])


def on_action_settled(sender: Any, *, case_id: str, state: str, **kwargs: Any) -> None:
    # A row that went through changes no task: the sources count a row from the moment it is
    # written (what Debitura's answer changes comes back through the read-back, as sync). The
    # relay then spends nothing on the work list per action sent.
    if state != OutboxAction.State.DONE:
        tasks_refresh(case_ids=[case_id])


def receivers_connect() -> None:
    """Connect the receivers (WorklistConfig.ready); connecting twice is a no-op (dispatch_uid)."""
    cases_changed.connect(on_cases_changed, dispatch_uid="worklist.cases_changed")
    action_settled.connect(on_action_settled, dispatch_uid="worklist.action_settled")
