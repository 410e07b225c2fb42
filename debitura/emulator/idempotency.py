"""Idempotency-Key handling for POST payments and chats (API-NOTES, "Limits ... idempotency")."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

from .errors import ApiError
from .http import Response

KEY_MAX_LENGTH = 255
RETENTION_SECONDS = 24 * 3600


@dataclass
class _Entry:
    fingerprint: str
    created: float
    response: Response | None = None  # None while the first request is still running


def fingerprint(body: bytes) -> str:
    """The same JSON in another key order or spacing is the same body."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyStore:
    """First answers by (scope, key); replays them, refuses a different body (422) or a race (409)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def in_flight(self) -> list[str]:
        """Keys whose first request has not finished (lets tests wait for a race deterministically)."""
        with self._lock:
            return [key for (_, key), entry in self._entries.items() if entry.response is None]

    def begin(self, scope: str, key: str, body: bytes, now: float) -> Response | None:
        """Reserve the key for this request, or return the stored answer to replay."""
        if len(key) > KEY_MAX_LENGTH:
            raise ApiError(
                400, f"Idempotency-Key must be at most {KEY_MAX_LENGTH} characters.", "InvalidIdempotencyKey"
            )
        digest = fingerprint(body)
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is not None and now - entry.created > RETENTION_SECONDS:
                entry = None
            if entry is None:
                self._entries[(scope, key)] = _Entry(digest, now)
                return None
            if entry.fingerprint != digest:
                raise ApiError(
                    422,
                    "This Idempotency-Key was already used with a different request body.",
                    "IdempotencyConflict",
                )
            if entry.response is None:
                raise ApiError(
                    409,
                    "A request with this Idempotency-Key is still in progress; retry shortly.",
                    "IdempotencyInProgress",
                    headers={"Retry-After": "1"},
                )
            return entry.response

    def finish(self, scope: str, key: str, response: Response | None) -> None:
        """Store the terminal answer; validation errors and failures free the key for a fixed retry."""
        with self._lock:
            if response is None or response.status == 400 or response.status >= 500:
                self._entries.pop((scope, key), None)
            elif (scope, key) in self._entries:
                self._entries[(scope, key)].response = response
