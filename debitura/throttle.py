"""Client-side rate limiting: one API key stays under Debitura's per-minute, -hour and -day limits.

`acquire()` blocks until every window has room, so callers never see our own limiter as an
error. RedisThrottle shares the windows between all worker processes (sorted sets updated by one
Lua script, keyed by a hash of the API key); without Redis, FileThrottle shares them between the
processes of one machine (a SQLite file under VAR_DIR); MemoryThrottle serves a single process. `share()`
carves a capped slice out of the same budget for background work, e.g. a refresh queue that may
use at most a quarter:

    background = throttle.share("refresh", 0.25)
    background.acquire()   # counts against both the slice and the whole key
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import math
import os
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from redis import exceptions as redis_errors

from debitura.errors import TransientError

if TYPE_CHECKING:
    import redis


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` requests in any `seconds`-long sliding window."""

    seconds: int
    limit: int


DEBITURA_WINDOWS: tuple[Window, ...] = (Window(60, 2_000), Window(3_600, 20_000), Window(86_400, 100_000))


@dataclass(frozen=True, slots=True)
class Bucket:
    """A named set of windows; a request must fit in every bucket it counts against."""

    name: str
    windows: tuple[Window, ...]

    @property
    def horizon(self) -> int:
        """The longest window: older entries can be forgotten."""
        return max(window.seconds for window in self.windows)


class Throttle(Protocol):
    """Anything the client can ask for a request slot."""

    def acquire(self, weight: int = 1) -> None:
        """Block until `weight` requests fit in every window, then count them."""
        ...


class NoThrottle:
    """Never waits: for tests and for one-off commands against the emulator."""

    def acquire(self, weight: int = 1) -> None:
        """Return at once."""


class SlidingWindowThrottle(ABC):
    """Sliding-window log over one or more buckets; subclasses store the log."""

    def __init__(
        self,
        windows: Sequence[Window] = DEBITURA_WINDOWS,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        _buckets: tuple[Bucket, ...] | None = None,
    ) -> None:
        if not windows or any(window.limit < 1 or window.seconds < 1 for window in windows):
            raise ValueError("Every window needs a positive length and limit.")
        self.clock = clock
        self.sleep = sleep
        self.buckets = _buckets or (Bucket("all", tuple(windows)),)

    def acquire(self, weight: int = 1) -> None:
        """Block until `weight` requests fit in every window of every bucket, then count them."""
        smallest = min(window.limit for bucket in self.buckets for window in bucket.windows)
        if not 1 <= weight <= smallest:
            raise ValueError(f"weight must be between 1 and {smallest}, not {weight}.")
        while True:
            wait = self._try_acquire(weight, self.clock())
            if wait <= 0:
                return
            self.sleep(wait)

    def share(self, name: str, fraction: float | Sequence[float]) -> Self:
        """A throttle on the same store that also caps its own use at `fraction` of each limit
        (one fraction per window, shortest first, when a sequence is given)."""
        base = self.buckets[0]
        fractions = [fraction] * len(base.windows) if isinstance(fraction, int | float) else list(fraction)
        if len(fractions) != len(base.windows) or not all(0 < f <= 1 for f in fractions):
            raise ValueError("fraction must be in (0, 1], one for each window when several are given.")
        windows = tuple(
            Window(w.seconds, max(1, math.floor(w.limit * f)))
            for w, f in zip(base.windows, fractions, strict=True)
        )
        clone = self._clone()
        clone.buckets = (*self.buckets, Bucket(name, windows))
        return clone

    def _clone(self) -> Self:
        # A shallow copy shares the store (log dict and lock, or Redis connection), clock and sleep.
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        return clone

    @abstractmethod
    def _try_acquire(self, weight: int, now: float) -> float:
        """Count `weight` requests and return 0 if they fit now, else the seconds to wait."""


class MemoryThrottle(SlidingWindowThrottle):
    """The windows in this process only (thread-safe): for a single worker or development."""

    def __init__(
        self,
        windows: Sequence[Window] = DEBITURA_WINDOWS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(windows, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._logs: dict[str, list[float]] = {}

    def _try_acquire(self, weight: int, now: float) -> float:
        with self._lock:
            wait = 0.0
            for bucket in self.buckets:
                log = self._logs.setdefault(bucket.name, [])
                del log[: bisect.bisect_right(log, now - bucket.horizon)]
                for window in bucket.windows:
                    first = bisect.bisect_right(log, now - window.seconds)
                    over = len(log) - first + weight - window.limit
                    if over > 0:
                        # Room appears when the over-th oldest entry in the window slides out.
                        wait = max(wait, log[first + over - 1] + window.seconds - now)
            if wait > 0:
                return wait
            for bucket in self.buckets:
                for _ in range(weight):
                    bisect.insort(self._logs[bucket.name], now)
            return 0.0


# KEYS: one sorted set per bucket. ARGV: now, weight, token, then per bucket: horizon, number of
# windows, and seconds/limit per window. Scores are request times; members are unique tokens.
_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local weight = tonumber(ARGV[2])
local token = ARGV[3]
local i = 4
local wait = 0
local horizons = {}
for k, key in ipairs(KEYS) do
  local horizon = tonumber(ARGV[i])
  local count = tonumber(ARGV[i + 1])
  i = i + 2
  horizons[k] = horizon
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - horizon)
  for _ = 1, count do
    local seconds = tonumber(ARGV[i])
    local limit = tonumber(ARGV[i + 1])
    i = i + 2
    local start = '(' .. tostring(now - seconds)
    local used = redis.call('ZCOUNT', key, start, '+inf')
    local over = used + weight - limit
    if over > 0 then
      local oldest = redis.call('ZRANGEBYSCORE', key, start, '+inf', 'WITHSCORES', 'LIMIT', over - 1, 1)
      local free_at = tonumber(oldest[2]) + seconds - now
      if free_at > wait then wait = free_at end
    end
  end
end
if wait > 0 then return tostring(wait) end
for k, key in ipairs(KEYS) do
  for n = 1, weight do
    redis.call('ZADD', key, now, token .. ':' .. n)
  end
  redis.call('EXPIRE', key, math.ceil(horizons[k]) + 1)
end
return '0'
"""


class RedisThrottle(SlidingWindowThrottle):
    """The windows in Redis, shared by every process using the same API key."""

    def __init__(
        self,
        client: redis.Redis,
        api_key: str,
        windows: Sequence[Window] = DEBITURA_WINDOWS,
        *,
        prefix: str = "debitura:throttle",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(windows, clock=clock, sleep=sleep)
        self._redis = client
        # The key itself must never reach Redis (or its MONITOR output): a short hash tells keys apart.
        self.key_prefix = f"{prefix}:{_key_hash(api_key)}"
        self._script: Any = client.register_script(_ACQUIRE_LUA)

    def __repr__(self) -> str:
        return f"RedisThrottle(key_prefix={self.key_prefix!r})"

    def _try_acquire(self, weight: int, now: float) -> float:
        keys = [f"{self.key_prefix}:{bucket.name}" for bucket in self.buckets]
        args: list[Any] = [repr(now), weight, uuid.uuid4().hex]
        for bucket in self.buckets:
            args += [bucket.horizon, len(bucket.windows)]
            for window in bucket.windows:
                args += [window.seconds, window.limit]
        try:
            return float(self._script(keys=keys, args=args))
        except redis_errors.RedisError as exc:
            # Nothing was sent to Debitura, so this is safe to retry like a refused connection.
            raise TransientError(
                f"The rate limiter's Redis is unavailable ({type(exc).__name__}).", ambiguous=False
            ) from exc


_SCHEMA = """
CREATE TABLE IF NOT EXISTS request (bucket TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS request_bucket_at ON request (bucket, at);
CREATE TABLE IF NOT EXISTS tally (bucket TEXT PRIMARY KEY, counted INTEGER NOT NULL, latest REAL NOT NULL);
CREATE TABLE IF NOT EXISTS slid (
  bucket TEXT NOT NULL, seconds INTEGER NOT NULL, mark REAL NOT NULL, out INTEGER NOT NULL,
  PRIMARY KEY (bucket, seconds)
);
"""


class FileThrottle(SlidingWindowThrottle):
    """The windows in a SQLite file, shared by every process on this machine using the same key.

    Without Redis each worker process kept its own window, so a worker with two processes could
    send twice the limit. Here every check-and-count is one write transaction (BEGIN IMMEDIATE)
    on a file all processes open. Counting a day's window row by row would cost 100,000 rows a
    request at the limit, so each window keeps how many requests have slid out of it so far
    (`slid`), and a check reads only the rows that slid out since the last one.
    """

    def __init__(
        self,
        path: Path | str,
        api_key: str,
        windows: Sequence[Window] = DEBITURA_WINDOWS,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(windows, clock=clock, sleep=sleep)
        self.path = Path(path)
        self.key = _key_hash(api_key)
        self._lock = threading.Lock()
        self._connection: tuple[int, sqlite3.Connection] | None = None

    def __repr__(self) -> str:
        return f"FileThrottle(path={str(self.path)!r})"

    def _open(self) -> sqlite3.Connection:
        # One connection per process: a forked child must not use its parent's.
        if self._connection is None or self._connection[0] != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            # Two processes opening a new file at once: switching it to WAL answers "database is
            # locked" at once to the second (SQLite's busy timeout does not cover it), so the
            # switch and the schema are made one process at a time.
            with open(self.path.with_name(self.path.name + ".lock"), "a") as guard:
                fcntl.flock(guard, fcntl.LOCK_EX)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
            # A count lost to a power cut lets a few requests more through in the next minute at
            # worst; Debitura answers those with a 429, which the client honours.
            connection.execute("PRAGMA synchronous=OFF")
            self._connection = (os.getpid(), connection)
        return self._connection[1]

    def _try_acquire(self, weight: int, now: float) -> float:
        with self._lock:
            db = self._open()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise TransientError(
                    f"The rate limiter's file is unavailable ({type(exc).__name__}).", ambiguous=False
                ) from exc
            try:
                wait = self._check(db, weight, now)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            return wait

    def _check(self, db: sqlite3.Connection, weight: int, now: float) -> float:
        names = [f"{self.key}:{bucket.name}" for bucket in self.buckets]
        marks = ",".join("?" * len(names))
        tallies = dict(
            db.execute(f"SELECT bucket, counted FROM tally WHERE bucket IN ({marks})", names).fetchall()  # noqa: S608
        )
        (latest,) = db.execute(f"SELECT max(latest) FROM tally WHERE bucket IN ({marks})", names).fetchone()  # noqa: S608
        # Another process may have counted with a later clock reading: never go back before it, or
        # a request stamped before a window's mark would never slide out of it.
        now = max(now, self.clock(), latest if latest is not None else now)
        wait = 0.0
        for bucket, name in zip(self.buckets, names, strict=True):
            for window in bucket.windows:
                inside = tallies.get(name, 0) - self._slide(db, name, window.seconds, now)
                over = inside + weight - window.limit
                if over > 0:
                    # Room appears when the over-th oldest request in the window slides out.
                    row = db.execute(
                        "SELECT at FROM request WHERE bucket = ? AND at > ? ORDER BY at LIMIT 1 OFFSET ?",
                        (name, now - window.seconds, over - 1),
                    ).fetchone()
                    wait = max(wait, (row[0] if row else now) + window.seconds - now)
            # Older than the longest window: out of every window, and counted so in each one's `out`.
            db.execute("DELETE FROM request WHERE bucket = ? AND at <= ?", (name, now - bucket.horizon))
        if wait > 0:
            return wait
        for name in names:
            db.executemany("INSERT INTO request (bucket, at) VALUES (?, ?)", [(name, now)] * weight)
            db.execute(
                "INSERT INTO tally (bucket, counted, latest) VALUES (?, ?, ?) ON CONFLICT (bucket) "
                "DO UPDATE SET counted = counted + excluded.counted, latest = excluded.latest",
                (name, weight, now),
            )
        return 0.0

    @staticmethod
    def _slide(db: sqlite3.Connection, name: str, seconds: int, now: float) -> int:
        """How many of the bucket's requests have slid out of a `seconds` window by `now`; reads
        only those that slid out since the last check."""
        mark, out = db.execute(
            "SELECT mark, out FROM slid WHERE bucket = ? AND seconds = ?", (name, seconds)
        ).fetchone() or (-math.inf, 0)
        cut = now - seconds
        if cut > mark:
            (left,) = db.execute(
                "SELECT count(*) FROM request WHERE bucket = ? AND at > ? AND at <= ?", (name, mark, cut)
            ).fetchone()
            out += left
            db.execute(
                "INSERT OR REPLACE INTO slid (bucket, seconds, mark, out) VALUES (?, ?, ?, ?)",
                (name, seconds, cut, out),
            )
        return int(out)


def throttle_for(broker_url: str, api_key: str, *, directory: Path | None = None) -> SlidingWindowThrottle:
    """RedisThrottle when the Celery broker is Redis (workers share it); else a FileThrottle in
    `directory`, shared by this machine's processes; else (no directory) the process's MemoryThrottle."""
    if broker_url.startswith(("redis://", "rediss://")):
        import redis

        return RedisThrottle(redis.Redis.from_url(broker_url, socket_timeout=5), api_key)
    if directory is not None:
        return FileThrottle(Path(directory) / "debitura-throttle.sqlite3", api_key)
    # One store per key and process, so every client in the process (and its shares) counts together.
    slot = (os.getpid(), _key_hash(api_key))
    with _memory_lock:
        throttle = _memory_throttles.get(slot)
        if throttle is None:
            throttle = _memory_throttles[slot] = MemoryThrottle()
    return throttle


_memory_throttles: dict[tuple[int, str], MemoryThrottle] = {}
_memory_lock = threading.Lock()


def _key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]
