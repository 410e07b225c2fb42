"""Webhook deliveries: signed headers, and a background sender for server mode."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from debitura.webhooks import SIGNATURE_HEADER, sign

from .state import Delivery

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
# Debitura retries 8 times over 1.5 hours; the emulator keeps the shape but not the patience.
RETRY_DELAYS = (1.0, 2.0, 4.0)


@dataclass
class OutgoingWebhook:
    """One signed POST: what a `deliver` callable receives."""

    url: str
    headers: dict[str, str]
    body: bytes
    event_type: str
    event_id: str
    subscription_id: str


def signed(delivery: Delivery, now: float | None = None) -> OutgoingWebhook:
    """The delivery with Debitura's headers, signed at `now` (wall-clock unix seconds)."""
    t = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(delivery.secret, delivery.body, t),
        "X-Debitura-Event": delivery.event_type,
        "X-Debitura-Timestamp": str(t),
    }
    if delivery.replay:
        headers["X-Debitura-Replay"] = "true"
    return OutgoingWebhook(
        delivery.url, headers, delivery.body, delivery.event_type, delivery.event_id, delivery.subscription_id
    )


Deliver = Callable[[OutgoingWebhook], "int | None"]
Record = Callable[[Delivery, "int | None", "str | None"], None]


def attempt(deliver: Deliver, delivery: Delivery, record: Record) -> bool:
    """Send once and record the outcome; True when the receiver answered 2xx."""
    try:
        status = deliver(signed(delivery))
    except Exception as exc:  # a receiver's failure must never reach the API caller
        record(delivery, None, f"{type(exc).__name__}: {exc}")
        return False
    status = 200 if status is None else status
    record(delivery, status, None)
    return 200 <= status < 300 or status == 410


class HttpDeliverer:
    """Posts deliveries from a daemon thread with a 10 s timeout and a few retries."""

    def __init__(self, record: Record, *, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._record = record
        self._retry_delays = retry_delays
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._client = httpx.Client(timeout=TIMEOUT_SECONDS)
        self._thread = threading.Thread(target=self._run, name="emulator-webhooks", daemon=True)
        self._thread.start()

    def post(self, outgoing: OutgoingWebhook) -> int:
        response = self._client.post(outgoing.url, content=outgoing.body, headers=outgoing.headers)
        return response.status_code

    def submit(self, delivery: Delivery) -> None:
        self._queue.put(delivery)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._client.close()

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            for delay in (0.0, *self._retry_delays):
                time.sleep(delay)
                if attempt(self.post, delivery, self._record):
                    break
            else:
                logger.info("Webhook %s to %s failed after retries.", delivery.event_id, delivery.url)
