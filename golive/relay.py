"""Relaying the check's own outbox rows now, in this process, with the outbox's relay service.

The go-live check must work without a worker (`manage.py golive_check` on a fresh server), so it
claims each row it wrote and sends it itself; a worker that happened to claim the row first is
waited for instead. Rows of other cases are never touched here: the workers relay those.
"""

from __future__ import annotations

import time

from django.utils import timezone

from debitura.client import DebituraClient
from outbox.claims import claim
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_one

State = OutboxAction.State
FINAL = frozenset({State.DONE, State.FAILED, State.CANCELLED})
# How long a row a worker holds (or an earlier row of its case holds back) is waited for.
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.2


def golive_action_relay(
    *, action: OutboxAction, client: DebituraClient, wait_seconds: float = WAIT_SECONDS
) -> OutboxAction:
    """Send `action` to Debitura now and return it as it ended: done, failed, or (after a
    transient failure or a wait that ran out) still open, with the relay's words in last_error."""
    deadline = time.monotonic() + wait_seconds
    while True:
        claimed = claim(timezone.now(), str(action.pk))
        if claimed is not None:
            outbox_relay_one(action=claimed, client=client)
        action.refresh_from_db()
        if action.state in FINAL:
            return action
        # Back to pending with a later attempt: Debitura did not answer. The check reports it
        # rather than sitting through the backoff.
        if action.state == State.PENDING and action.attempts and action.next_attempt_at > timezone.now():
            return action
        if time.monotonic() >= deadline:
            return action
        time.sleep(POLL_SECONDS)
