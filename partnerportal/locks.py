"""A lock by name across the portal's processes, for the rare job that must not run twice at once.

On PostgreSQL it is an advisory lock held by a transaction (other writers are not blocked: no row
is locked); on SQLite, whose processes share one machine, a file lock under VAR_DIR. Neither holds
SQLite's write lock, so a slow call to Debitura inside the block stops no one else's writes.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction


class LockBusy(Exception):
    """The lock is held elsewhere and the caller asked not to wait."""


def _key(name: str) -> int:
    # A signed 64-bit key for pg_advisory_xact_lock, stable across processes and versions.
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def named_lock(name: str, *, wait: bool = True) -> Iterator[None]:
    """Hold the lock `name` for the block; with wait=False raise LockBusy instead of waiting."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(name)])
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_key(name)])
                if not cursor.fetchone()[0]:
                    raise LockBusy(name)
            yield
        return
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockBusy(name) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
