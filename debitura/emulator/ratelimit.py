"""Per-key rate limits over sliding windows (API-NOTES: 2,000/min, 20,000/h, 100,000/day)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass


@dataclass
class RateLimits:
    """Requests allowed per key in each sliding window."""

    per_minute: int = 2_000
    per_hour: int = 20_000
    per_day: int = 100_000

    def windows(self) -> tuple[tuple[float, int], ...]:
        return ((60.0, self.per_minute), (3600.0, self.per_hour), (86400.0, self.per_day))


class RateLimiter:
    """Counts requests per key; `check` answers how long to wait, or None when allowed."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._lock = threading.Lock()
        self._hits: dict[str, list[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def check(self, key: str, now: float) -> float | None:
        """Record a request at `now` unless a window is full; then return the seconds to wait."""
        with self._lock:
            hits = self._hits.setdefault(key, [])
            # Hits older than a day can never count again.
            stale = bisect.bisect_right(hits, now - 86400.0)
            if stale:
                del hits[:stale]
            wait = 0.0
            for window, limit in self.limits.windows():
                first = bisect.bisect_right(hits, now - window)
                if len(hits) - first >= limit:
                    # The window frees a slot when its oldest counted hit leaves it.
                    oldest = hits[len(hits) - limit]
                    wait = max(wait, oldest + window - now)
            if wait > 0:
                return wait
            hits.append(now)
            return None
