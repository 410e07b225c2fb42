"""`cases_changed`: what the local copy of some cases changed, said once the change is committed.

Sent by the writers of case data (the sync's page upsert and children store, the payments'
mirror, an agent's action, a reassignment, a case found gone) with the ids of the cases touched,
so that summaries kept beside the cases (the work list's tasks) follow without cases knowing who
listens. Receivers run after the commit, in the writer's thread; a receiver that fails is logged
and the write stands (Django's robust on_commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

# sender: the module that wrote; case_ids: list[str]
cases_changed = Signal()


class _Send:
    """One on_commit callback per transaction level: the ids of several writes sent together."""

    def __init__(self, sender: Any) -> None:
        self.sender = sender
        self.case_ids: set[str] = set()
        # Django names a robust callback that failed by its __qualname__ when it logs the error.
        self.__qualname__ = "cases_changed_on_commit"

    def __call__(self) -> None:
        cases_changed.send(sender=self.sender, case_ids=sorted(self.case_ids))


def cases_changed_on_commit(*, case_ids: Iterable[Any], sender: Any = None) -> None:
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
            if isinstance(callback, _Send) and savepoints == level:
                callback.case_ids |= ids
                return
    send = _Send(sender)
    send.case_ids = ids
    transaction.on_commit(send, robust=True)
