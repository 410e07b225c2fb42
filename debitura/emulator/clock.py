"""The emulator's clock: real time plus an offset that tests and the control plane can move."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """UTC now plus an adjustable offset; `tick` never returns the same moment twice."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def time(self) -> float:
        """Unix seconds, offset included."""
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def tick(self) -> datetime:
        """A fresh, strictly increasing stamp for changes (the sync orders on DateUpdated)."""
        with self._lock:
            moment = max(self.now(), self._last + timedelta(microseconds=1))
            self._last = moment
            return moment
