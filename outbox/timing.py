"""The relay's clocks: the lease a sending worker keeps by its heartbeat, the backoff after a
failed attempt, and the sweep's grace. Each default can be changed in settings (OUTBOX_*).

An action's retries back off here (its row's next_attempt_at); the relay's Celery task has no
retry policy of its own. The client retries only a request that certainly had no effect, for a
short wait (debitura/client.py); a longer one comes back here.
"""

from __future__ import annotations

import random

from django.conf import settings

# A claimed row's heartbeat is renewed every LEASE_SECONDS / HEARTBEATS_PER_LEASE while its send
# is alive; one not renewed for LEASE_SECONDS belongs to a dead worker and is taken back.
LEASE_SECONDS = 20
HEARTBEATS_PER_LEASE = 4
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 900.0
SWEEP_GRACE_SECONDS = 60


def setting(name: str, default: float) -> float:
    """A timing from settings, in seconds, or its default."""
    return float(getattr(settings, name, default))


def backoff_seconds(*, attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, capped; never sooner than Debitura's retryAfter."""
    base = setting("OUTBOX_BACKOFF_BASE_SECONDS", BACKOFF_BASE_SECONDS)
    cap = setting("OUTBOX_BACKOFF_CAP_SECONDS", BACKOFF_CAP_SECONDS)
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)
