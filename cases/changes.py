"""`cases_changed`: what the local copy of some cases changed, said once the change is committed.

Sent by the writers of case data (the sync's page upsert and children store, the payments'
mirror, an agent's action, a reassignment, a case found gone) with the ids of the cases touched
and where the change came from, so that summaries kept beside the cases (the work list's tasks)
follow without cases knowing who listens. `origin` lets a receiver keep up with an agent at once
and with the sync in the background (a first import writes thousands of cases a second).
Receivers run after the commit, in the writer's thread; a receiver that fails is logged and the
write stands (Django's robust on_commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from django.db import transaction
from django.dispatch import Signal

Origin = Literal["sync", "agent"]
SYNC: Origin = "sync"  # pulled from Debitura (pages, children, payments, a case found gone)
AGENT: Origin = "agent"  # a person's action in the portal (an outbox row written, a reassignment)

# sender: None; case_ids: list[str]; origin: Origin
cases_changed = Signal()


class _Send:
    """One on_commit callback per transaction level and origin: several writes' ids sent together."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.case_ids: set[str] = set()
        # Django names a robust callback that failed by its __qualname__ when it logs the error.
        self.__qualname__ = "cases_changed_on_commit"

    def __call__(self) -> None:
        cases_changed.send(sender=None, case_ids=sorted(self.case_ids), origin=self.origin)


def cases_changed_on_commit(*, case_ids: Iterable[Any], origin: Origin) -> None:
    """Send `cases_changed` for these cases when the current transaction commits (at once outside one).

    Writes at the same savepoint level share one callback (a children refresh writes the case, its
    chat and its payments: one signal); a callback registered at another level is left alone, so a
    rolled back savepoint never takes another level's ids with it.
    """
    ids = {str(case_id) for case_id in case_ids}
    if not ids:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        level = set(connection.savepoint_ids)
        for savepoints, callback, _robust in reversed(connection.run_on_commit):
            if isinstance(callback, _Send) and callback.origin == origin and savepoints == level:
                callback.case_ids |= ids
                return
    send = _Send(origin)
    send.case_ids = ids
    transaction.on_commit(send, robust=True)
