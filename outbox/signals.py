"""`action_settled`: an outbox row's state changed after the agent's write, said once committed.

Sent where a row reaches a final state (done, failed, cancelled) and where an administrator sends
a failed row again, with the row's id, case id and new state. The outbox knows no app: whoever
keeps something that depends on the rows (the work list's tasks) connects a receiver.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

from outbox.models import OutboxAction

# sender: OutboxAction; action_id: str, case_id: str, state: str
action_settled = Signal()


def action_settled_on_commit(action: OutboxAction) -> None:
    """Send `action_settled` for the row when the current transaction commits (robust: a failing
    receiver is logged, the outcome stands)."""
    action_id, case_id, state = str(action.pk), str(action.case_id), str(action.state)

    def send() -> None:
        action_settled.send(sender=OutboxAction, action_id=action_id, case_id=case_id, state=state)

    transaction.on_commit(send, robust=True)
