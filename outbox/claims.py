"""Claiming due rows: a row is due when its time has come and no earlier open row of its case
holds it back; a claim moves it to SENDING in one conditional UPDATE, race-free on every
database, and a batch of rows shares one claim's commit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from debitura.client import DebituraClient
from outbox.models import OutboxAction
from outbox.registry import BEFORE, HANDLERS

if TYPE_CHECKING:
    from outbox.readbacks import ReadBacks

log = logging.getLogger(__name__)

State = OutboxAction.State
OPEN_STATES = (State.PENDING, State.SENDING)

# Due rows a relay claims at once (one per case: only a case's first open row is due), sent one
# after another; one claim costs a write transaction, so several rows share it.
CLAIM_BATCH = 5


def due(now: datetime) -> Any:
    """Pending rows whose time has come and that no earlier open row of the same case holds back."""
    # A row on no case (a submitted managed case) compares NULL = NULL, which is never true:
    # nothing holds it back.
    earlier_open = OutboxAction.objects.filter(
        case_id=OuterRef("case_id"), state__in=OPEN_STATES, created_at__lt=OuterRef("created_at")
    )
    return (
        OutboxAction.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .exclude(Exists(earlier_open))
        .order_by("next_attempt_at", "created_at")
    )


def claim_batch(
    now: datetime,
    action_id: str | None = None,
    *,
    limit: int = CLAIM_BATCH,
    among: list[Any] | None = None,
    counted: dict[Any, Any] | None = None,
) -> list[OutboxAction]:
    """Take up to `limit` due rows (that row only, when an id is given; only those `among`, when
    given) by moving them to SENDING, and write the look-alike counts taken for them (`counted`,
    see count_before_claim) into their payload in the same commit.

    On PostgreSQL the candidates are locked with SKIP LOCKED so concurrent claimers spread out;
    the conditional UPDATE is the claim itself and is race-free on every database.
    """
    with transaction.atomic():
        rows = due(now)
        if action_id is not None:
            rows = rows.filter(pk=action_id)
        if among is not None:
            rows = rows.filter(pk__in=among)
        candidates = list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if not candidates:
            return []
        OutboxAction.objects.filter(pk__in=candidates, state=State.PENDING).update(
            state=State.SENDING, attempts=F("attempts") + 1, sent_at=now, heartbeat_at=now, updated_at=now
        )
        claimed = {
            a.pk: a for a in OutboxAction.objects.filter(pk__in=candidates, state=State.SENDING, sent_at=now)
        }
        counts = []
        for pk, (kept, _listing) in (counted or {}).items():
            action = claimed.get(pk)
            if action is not None and BEFORE not in action.payload:
                action.payload = {**action.payload, BEFORE: kept}
                counts.append(action)
        if counts:
            OutboxAction.objects.bulk_update(counts, ["payload"])
    return [claimed[pk] for pk in candidates if pk in claimed]


def count_before_claim(
    now: datetime, action_id: str | None, limit: int, client: DebituraClient, read_backs: ReadBacks
) -> tuple[list[Any], dict[Any, Any]]:
    """The due rows a claim would take, and for those that count look-alikes before their first
    send (notes, uploads) the count, taken now, outside any transaction: the claim then writes it
    in its own commit instead of one more commit per action (a disk flush each on PostgreSQL).
    The count is as old as the claim's batch is long (a fraction of a second), as a count taken
    just before the send would be. A row whose count cannot be taken now takes it after the claim."""
    rows_due = due(now)
    if action_id is not None:
        rows_due = rows_due.filter(pk=action_id)
    rows = list(rows_due.values_list("pk", "case_id", "kind", "payload")[:limit])
    counted: dict[Any, Any] = {}
    for pk, case_id, kind, payload in rows:
        handler = HANDLERS[kind]
        if handler.before is None or BEFORE in payload:
            continue
        row = OutboxAction(pk=pk, case_id=case_id, kind=kind, payload=payload)
        try:
            counted[pk] = handler.before(row, client, read_backs.known(str(case_id), handler.listing))
        except Exception:
            log.info("outbox count before the claim of action=%s failed; counted after it", pk, exc_info=True)
    return [pk for pk, *_ in rows], counted


def claim(now: datetime, action_id: str | None = None) -> OutboxAction | None:
    """Take one due row (that row, when an id is given); see claim_batch."""
    batch = claim_batch(now, action_id, limit=1)
    return batch[0] if batch else None


def unclaim(actions: list[OutboxAction], now: datetime) -> None:
    """Hand back claimed rows that were never sent (the relay stopped before them)."""
    for action in actions:
        OutboxAction.objects.filter(pk=action.pk, state=State.SENDING, attempts=action.attempts).update(
            state=State.PENDING, next_attempt_at=now, updated_at=now
        )
