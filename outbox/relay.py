"""The outbox relay: sends agents' actions to Debitura, once each, in the order they were made.

A row moves pending -> sending (claimed) -> done | failed, or back to pending after a transient
error (with exponential backoff) or an expired lease (worker died mid-send). A send that may
have reached Debitura without an answer leaves the row `uncertain`; before an uncertain row
without an Idempotency-Key is sent again, the relay looks at the case for the effect. How each
kind is sent, checked, confirmed and undone is its app's handler (outbox.registry).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from debitura.client import DebituraClient, get_client
from debitura.errors import PermanentError, RequestInvalid, ResponseInvalid, TransientError
from debitura.serialization import json_native
from outbox.claims import CLAIM_BATCH, claim_batch, count_before_claim, due, unclaim
from outbox.leases import Lease, heartbeats, outbox_release_expired
from outbox.models import OutboxAction
from outbox.queue import relay_queue
from outbox.readbacks import FOLD_SECONDS, ReadBacks
from outbox.registry import BEFORE, HANDLERS, Handler, NeedsConsent, jsonable, read_back
from outbox.signals import action_settled_on_commit
from outbox.timing import SWEEP_GRACE_SECONDS, backoff_seconds, setting

log = logging.getLogger(__name__)

State = OutboxAction.State


class Outcome(enum.StrEnum):
    """What one relay attempt ended in."""

    DONE = "done"
    FOUND = "found"  # an uncertain row whose effect was already at Debitura
    RETRY = "retry"
    FAILED = "failed"
    LOST = "lost"  # our lease expired and someone else owns the row now


@dataclass
class RelayReport:
    """Counts of one relay run, by outcome."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def attempted(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.counts.items()))
        return f"{self.attempted} sent ({parts})" if parts else "nothing due"


# --- Recording an outcome ----------------------------------------------------------------------


def _finish(action: OutboxAction, now: datetime, **changes: Any) -> bool:
    """Write the outcome if we still own the row (state SENDING at our attempt); False otherwise."""
    owned = OutboxAction.objects.filter(pk=action.pk, state=State.SENDING, attempts=action.attempts)
    changes.setdefault("updated_at", now)
    if not owned.update(**changes):
        return False
    for field, value in changes.items():
        setattr(action, field, value)
    return True


def _done(
    action: OutboxAction,
    now: datetime,
    handler: Handler,
    result: Any,
    response: Any,
    *,
    listing: Any = None,
    read_backs: ReadBacks | None = None,
) -> bool:
    with transaction.atomic():
        _done_commit_without_flush_wait()
        if not _finish(
            action, now, state=State.DONE, done_at=now, uncertain=False, last_error="", response=response
        ):
            return False
        if handler.fold is not None and handler.listing is not None:
            folded = handler.fold(action, result, listing)
            if folded is not None and read_backs is not None:
                read_backs.know(str(action.case_id), handler.listing, folded)
        if handler.confirm is not None:
            handler.confirm(action, result)
        action_settled_on_commit(action)
    return True


def _done_commit_without_flush_wait() -> None:
    """On PostgreSQL, let a done row's commit return before its WAL reaches the disk (one disk
    flush less per action). A server crash can then lose the DONE, never the claim or the count
    taken before the send (those commits wait): the row is sending again, is taken back after
    the lease, and the check finds the effect or the Idempotency-Key replays it; nothing is sent
    twice. The claim and the count must wait: without them a send could go out again unchecked."""
    if transaction.get_connection().vendor == "postgresql":
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _retry(action: OutboxAction, now: datetime, exc: Exception, *, ambiguous: bool) -> bool:
    retry_after = exc.retry_after if isinstance(exc, TransientError) else None
    delay = backoff_seconds(attempts=action.attempts, retry_after=retry_after)
    with transaction.atomic():
        if not _finish(
            action,
            now,
            state=State.PENDING,
            next_attempt_at=now + timedelta(seconds=delay),
            uncertain=action.uncertain or ambiguous,
            last_error=f"{exc} Trying again in {delay:.0f} s.",
        ):
            return False
        transaction.on_commit(lambda: relay_queue(str(action.pk), countdown=delay))
    return True


def _fail(action: OutboxAction, now: datetime, handler: Handler, message: str, body: Any) -> bool:
    with transaction.atomic():
        if not _finish(action, now, state=State.FAILED, last_error=message, response=body):
            return False
        if handler.undo is not None:
            handler.undo(action, False)
        action_settled_on_commit(action)
    return True


def _reads(action: OutboxAction, outcome: Outcome) -> frozenset[str]:
    """What to read back after this outcome: nothing changed at Debitura on a refusal, but the
    local copy it was checked against may be out of date (the read-back's `refused`)."""
    handler = HANDLERS[action.kind]
    if outcome is Outcome.FAILED:
        return read_back().refused
    if outcome is Outcome.DONE and not (
        isinstance(action.response, dict) and "unreadable" in action.response
    ):
        return handler.reads
    return handler.blind if outcome in (Outcome.DONE, Outcome.FOUND) else frozenset()


# --- Sending -----------------------------------------------------------------------------------


def _send(
    action: OutboxAction,
    client: DebituraClient,
    now: datetime,
    lease: Lease,
    read_backs: ReadBacks,
    listing: Any = None,
) -> Outcome:
    """Check (an uncertain row), count the look-alikes (unless the claim did), send, record."""
    handler = HANDLERS[action.kind]
    try:
        if action.uncertain and handler.check is not None and handler.check(action, client):
            response = {"effectFound": True, "checkedAt": now.isoformat()}
            return Outcome.FOUND if _done(action, now, handler, None, response) else Outcome.LOST
        if handler.before is not None and BEFORE not in action.payload:
            known = read_backs.known(str(action.case_id), handler.listing)
            kept, listing = handler.before(action, client, known)
            if not _finish(action, now, payload={**action.payload, BEFORE: kept}):
                return Outcome.LOST
        if lease.lost:
            return Outcome.LOST  # taken back while we looked: its new owner sends it
        result = handler.send(action, client)
    except TransientError as exc:
        return Outcome.RETRY if _retry(action, now, exc, ambiguous=exc.ambiguous) else Outcome.LOST
    except ResponseInvalid as exc:
        # A 2xx we cannot read: the request took effect.
        return Outcome.DONE if _done(action, now, handler, None, {"unreadable": str(exc)}) else Outcome.LOST
    except PermanentError as exc:
        return _permanent(action, now, handler, exc)
    except NeedsConsent as exc:
        return Outcome.FAILED if _fail(action, now, handler, exc.message, exc.body) else Outcome.LOST
    except RequestInvalid as exc:
        message = f"Debitura would refuse this: {exc}"
        return Outcome.FAILED if _fail(action, now, handler, message, None) else Outcome.LOST
    except Exception as exc:
        # Our own fault (storage, database): keep the row, uncertain, and let backoff pace it.
        log.exception("outbox action=%s kind=%s raised", action.pk, action.kind)
        return Outcome.RETRY if _retry(action, now, exc, ambiguous=True) else Outcome.LOST
    done = _done(action, now, handler, result, jsonable(result), listing=listing, read_backs=read_backs)
    return Outcome.DONE if done else Outcome.LOST


def _permanent(action: OutboxAction, now: datetime, handler: Handler, exc: PermanentError) -> Outcome:
    body = json_native(exc.body) if exc.body is not None else None
    if handler.already_done is not None and handler.already_done(exc):
        return Outcome.DONE if _done(action, now, handler, None, body) else Outcome.LOST
    return Outcome.FAILED if _fail(action, now, handler, exc.message, body) else Outcome.LOST


def outbox_relay_one(
    *,
    action: OutboxAction,
    client: DebituraClient,
    now: datetime | None = None,
    read_backs: ReadBacks | None = None,
    lease: Lease | None = None,
    listing: Any = None,
) -> Outcome:
    """Send one claimed (SENDING) row, record the outcome, and read back what it changed (now,
    or folded with the case's other actions when `read_backs` is given)."""
    now = now or timezone.now()
    owed = read_backs or ReadBacks(client)
    if lease is not None:
        outcome = _send(action, client, now, lease, owed, listing)
    else:
        with heartbeats.hold([action], now) as leases:
            outcome = _send(action, client, now, leases[action.pk], owed, listing)
    log.info(
        "outbox send action=%s kind=%s case=%s attempt=%d outcome=%s",
        action.pk,
        action.kind,
        action.case_id,
        action.attempts,
        outcome,
    )
    # An action on no case (a case submitted as managing partner) has nothing to read back.
    if outcome in (Outcome.DONE, Outcome.FOUND, Outcome.FAILED) and action.case_id is not None:
        owed.add(str(action.case_id), _reads(action, outcome))
    if read_backs is None:
        owed.flush()
    return outcome


def outbox_relay_due(
    *,
    first_action_id: str | None = None,
    client: DebituraClient | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> RelayReport:
    """Claim and send due rows (the given one first) until none is due or `limit` were sent.

    What the actions on a case change is read back once for those relayed within FOLD_SECONDS.
    """
    client = client or get_client()
    report = RelayReport()
    read_backs = ReadBacks(client)
    outbox_release_expired(now=now)
    wanted = first_action_id
    try:
        while report.attempted < limit:
            moment = now or timezone.now()
            size = 1 if wanted else min(CLAIM_BATCH, limit - report.attempted)
            among, counted = count_before_claim(moment, wanted, size, client, read_backs)
            batch = claim_batch(moment, wanted, limit=size, among=among, counted=counted) if among else []
            if not batch and wanted is not None:
                wanted = None
                continue
            if not batch:
                break
            wanted = None
            with heartbeats.hold(batch, moment) as leases:
                for number, action in enumerate(batch):
                    try:
                        outcome = outbox_relay_one(
                            action=action,
                            client=client,
                            now=moment,
                            read_backs=read_backs,
                            lease=leases[action.pk],
                            listing=counted.get(action.pk, (None, None))[1],
                        )
                    except BaseException:
                        unclaim(batch[number + 1 :], moment)
                        raise
                    report.add(outcome)
                    read_backs.flush(older_than=FOLD_SECONDS)
    finally:
        read_backs.flush()
    return report


def outbox_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Release expired leases and queue a relay for rows left due longer than a grace period."""
    now = now or timezone.now()
    outbox_release_expired(now=now)
    grace = timedelta(seconds=setting("OUTBOX_SWEEP_GRACE_SECONDS", SWEEP_GRACE_SECONDS))
    stale = list(due(now - grace).values_list("pk", flat=True)[:limit])
    for pk in stale:
        transaction.on_commit(partial(relay_queue, str(pk)))
    if stale:
        log.info("outbox sweep queued %d rows left behind", len(stale))
    return len(stale)
