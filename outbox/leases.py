"""Leases on claimed rows: a sending worker renews each row's heartbeat while its send is alive;
a row whose heartbeat stopped for a lease belongs to a dead worker and is taken back, uncertain,
to be checked before it is sent again."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from outbox.models import OutboxAction
from outbox.queue import relay_queue
from outbox.timing import HEARTBEATS_PER_LEASE, LEASE_SECONDS, setting

log = logging.getLogger(__name__)

State = OutboxAction.State


def outbox_release_expired(*, now: datetime | None = None) -> int:
    """Rows in SENDING whose heartbeat stopped a lease ago: the worker died mid-send, so the
    outcome is unknown. They are due at once, checked before anything is sent again."""
    now = now or timezone.now()
    lease = timedelta(seconds=setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS))
    expired = OutboxAction.objects.annotate(alive_at=Coalesce("heartbeat_at", "sent_at")).filter(
        state=State.SENDING, alive_at__lt=now - lease
    )
    with transaction.atomic():
        ids = list(expired.values_list("pk", flat=True))
        released = OutboxAction.objects.filter(pk__in=ids, state=State.SENDING).update(
            state=State.PENDING,
            uncertain=True,
            next_attempt_at=now,
            updated_at=now,
            last_error="The send was interrupted; Debitura will be checked before sending again.",
        )
        for pk in ids:
            transaction.on_commit(partial(relay_queue, str(pk)))
    if released:
        log.warning("outbox released %d rows whose worker stopped answering", released)
    return released


class Lease:
    """A claimed row this process is sending; `lost` turns True once it was taken back (its
    heartbeat had stopped for a lease), and nothing more is sent for it then."""

    def __init__(self, action: OutboxAction, now: datetime) -> None:
        self.pk, self.attempts = action.pk, action.attempts
        # Stamps count on from the claim's `now`, so a relay run at a given moment (tests, a
        # catch-up) stays consistent with itself.
        self.now, self.started = now, time.monotonic()
        self.lost = False

    def stamp(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self.started)


class _Heartbeats:
    """One thread per process renews the heartbeat of every row the process is sending.

    The thread writes on a connection of its own, so a row is only registered when its claim is
    committed (not inside a caller's transaction, as in tests). Its connection is closed after
    each round: a test database can be dropped and a server restarted in between.
    """

    def __init__(self) -> None:
        self._leases: dict[Any, Lease] = {}
        self._lock = threading.Lock()
        self._thread: tuple[int, threading.Thread] | None = None

    @contextmanager
    def hold(self, actions: list[OutboxAction], now: datetime) -> Iterator[dict[Any, Lease]]:
        """Renew these claimed rows until the block ends; their leases by primary key."""
        leases = {action.pk: Lease(action, now) for action in actions}
        if transaction.get_connection().in_atomic_block:
            yield leases
            return
        with self._lock:
            self._leases.update(leases)
            if self._thread is None or self._thread[0] != os.getpid() or not self._thread[1].is_alive():
                thread = threading.Thread(target=self._run, name="outbox-heartbeat", daemon=True)
                self._thread = (os.getpid(), thread)
                thread.start()
        try:
            yield leases
        finally:
            with self._lock:
                for pk in leases:
                    self._leases.pop(pk, None)

    def _run(self) -> None:
        while True:
            time.sleep(setting("OUTBOX_LEASE_SECONDS", LEASE_SECONDS) / HEARTBEATS_PER_LEASE)
            with self._lock:
                leases = list(self._leases.values())
            if not leases:
                continue
            try:
                for lease in leases:
                    renewed = OutboxAction.objects.filter(
                        pk=lease.pk, state=State.SENDING, attempts=lease.attempts
                    ).update(heartbeat_at=lease.stamp())
                    lease.lost = lease.lost or not renewed
            except DatabaseError:
                log.warning("outbox heartbeat failed; trying again", exc_info=True)
            finally:
                connections.close_all()  # this thread's connections only


heartbeats = _Heartbeats()
