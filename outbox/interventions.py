"""An administrator's decisions about a row: send a failed one again, or withdraw a pending one
before it is sent. Each runs the kind's redo or undo, so the optimistic change follows."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxAction
from outbox.queue import relay_queue
from outbox.registry import HANDLERS
from outbox.signals import action_settled_on_commit

log = logging.getLogger(__name__)

State = OutboxAction.State


class OutboxStateError(Exception):
    """The row is not in a state that allows the requested change."""


def outbox_retry(*, action: OutboxAction, actor: Any, now: datetime | None = None) -> OutboxAction:
    """Send a failed row again (an administrator's decision); its optimistic change reappears."""
    now = now or timezone.now()
    with transaction.atomic():
        row = OutboxAction.objects.select_for_update().get(pk=action.pk)
        if row.state != State.FAILED:
            raise OutboxStateError(
                f"Only failed actions can be retried; this one is {row.get_state_display()}."
            )
        row.state = State.PENDING
        row.next_attempt_at = now
        row.last_error = f"Retried by {actor} at {now:%Y-%m-%d %H:%M} (was: {row.last_error})"
        row.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
        handler = HANDLERS[row.kind]
        if handler.redo is not None:
            handler.redo(row)
        transaction.on_commit(lambda: relay_queue(str(row.pk)))
        action_settled_on_commit(row)
    log.info("outbox action=%s retried by %s", row.pk, actor)
    return row


def outbox_cancel(*, action: OutboxAction, actor: Any, now: datetime | None = None) -> OutboxAction:
    """Withdraw a pending row before it is sent; its optimistic change is undone."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = OutboxAction.objects.filter(pk=action.pk, state=State.PENDING).update(
            state=State.CANCELLED,
            updated_at=now,
            last_error=f"Cancelled by {actor} at {now:%Y-%m-%d %H:%M} before it was sent.",
        )
        row = OutboxAction.objects.get(pk=action.pk)
        if not updated:
            raise OutboxStateError(
                f"Only pending actions can be cancelled; this one is {row.get_state_display()}."
            )
        handler = HANDLERS[row.kind]
        if handler.undo is not None:
            handler.undo(row, True)
        action_settled_on_commit(row)
    log.info("outbox action=%s cancelled by %s", row.pk, actor)
    return row
