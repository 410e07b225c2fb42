"""What can go wrong talking to Debitura, split by what the caller should do about it.

    DebituraError
    ├── RequestInvalid        refused locally before anything was sent (field -> message)
    ├── ResponseInvalid       a 2xx answer the gateway cannot read (the request took effect)
    ├── TransientError        retry later; `ambiguous` says whether it may already have happened
    │   ├── RateLimited       429, with `retry_after` seconds
    │   ├── RequestInFlight   409 IdempotencyInProgress: the same key is still running
    │   └── ServerError       5xx
    └── PermanentError        4xx: retrying the same request will not help
        ├── LinkRefused       a signed file link that expired, was tampered with or is not Debitura's
        ├── AuthError         401, 403
        ├── NotFound          404
        ├── Conflict          409
        └── ValidationFailed  400, 413, 415, 422
            └── IdempotencyConflict   422: the key was used with another body

Messages never contain the API key; PermanentError.message is fit to show an agent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from debitura.types import BusinessError


class DebituraError(Exception):
    """Anything the gateway raises."""


class RequestInvalid(DebituraError):
    """A request refused before sending, with a message per offending field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


class ResponseInvalid(DebituraError):
    """Debitura answered with success but a body the gateway cannot read."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


class TransientError(DebituraError):
    """A failure that may pass: timeouts, connection errors, 5xx, 429.

    `ambiguous` is True when the request may have taken effect (it was sent and the answer was
    lost or was a 5xx), so a write must look at the case before it is retried; False when it
    certainly did not (connection refused, 429, 503, or a read).
    """

    def __init__(
        self,
        message: str,
        *,
        ambiguous: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.ambiguous = ambiguous
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class ServerError(TransientError):
    """Debitura answered 5xx."""


class RequestInFlight(TransientError):
    """409 IdempotencyInProgress: the first request with this Idempotency-Key is still running.

    Not ambiguous: asking again with the same key later replays the first answer.
    """

    def __init__(self, message: str, *, retry_after: float | None = 2.0) -> None:
        super().__init__(message, ambiguous=False, status=409, retry_after=retry_after)


class RateLimited(TransientError):
    """Debitura answered 429; `retry_after` is how many seconds to wait (None if it did not say)."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message, ambiguous=False, status=429, retry_after=retry_after)


class PermanentError(DebituraError):
    """A 4xx answer: the request must change before it can succeed."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        business_errors: tuple[BusinessError, ...] = (),
        body: Any = None,
    ) -> None:
        self.message = message
        self.status = status
        self.business_errors = business_errors
        self.body = body
        super().__init__(message)

    @property
    def error_types(self) -> frozenset[str]:
        """The businessErrors types, e.g. {"IdempotencyConflict"}."""
        return frozenset(error.type for error in self.business_errors if error.type)


class AuthError(PermanentError):
    """401 or 403: the API key is wrong, revoked or not allowed to do this."""


class LinkRefused(PermanentError):
    """A signed file link refused (expired: list the files again) or not one the gateway will follow."""


class NotFound(PermanentError):
    """404: the case or object does not exist or is not the partner's."""


class Conflict(PermanentError):
    """409: the case's state does not allow this, or the same idempotent request is in flight."""


class ValidationFailed(PermanentError):
    """400, 413, 415 or 422: Debitura refused the content of the request."""

    @property
    def is_idempotency_conflict(self) -> bool:
        """True when the Idempotency-Key was already used with a different body."""
        return "IdempotencyConflict" in self.error_types


class IdempotencyConflict(ValidationFailed):
    """422: the Idempotency-Key was already used with a different body."""


_PERMANENT_BY_STATUS: dict[int, type[PermanentError]] = {
    400: ValidationFailed,
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    413: ValidationFailed,
    415: ValidationFailed,
    422: ValidationFailed,
}


def error_for_response(
    status: int, body: Any, headers: Mapping[str, str], *, method: str, now: datetime
) -> DebituraError:
    """The error for a non-2xx answer; `body` is the parsed JSON, or text when it was not JSON."""
    if status == 429:
        wait = _seconds(body.get("retryAfter")) if isinstance(body, Mapping) else None
        if wait is None:
            wait = retry_after_header(headers.get("retry-after"), now)
        return RateLimited(_human_message(body, status), retry_after=wait)
    if status >= 500 or status == 408:
        # 503 and 408 mean the request was not processed; other 5xx may come after it was.
        processed = status not in (503, 408) and method.upper() not in _READS
        return ServerError(
            _human_message(body, status),
            ambiguous=processed,
            status=status,
            retry_after=retry_after_header(headers.get("retry-after"), now),
        )
    business_errors = _business_errors(body)
    if status == 409 and any(error.type == "IdempotencyInProgress" for error in business_errors):
        return RequestInFlight(_human_message(body, status))
    cls = _PERMANENT_BY_STATUS.get(status, PermanentError)
    if status == 422 and any(error.type == "IdempotencyConflict" for error in business_errors):
        cls = IdempotencyConflict
    return cls(_human_message(body, status), status=status, business_errors=business_errors, body=body)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def retry_after_header(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header, which holds seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _business_errors(body: Any) -> tuple[BusinessError, ...]:
    if not isinstance(body, Mapping) or not isinstance(body.get("businessErrors"), list):
        return ()
    return tuple(BusinessError.from_api(item) for item in body["businessErrors"] if isinstance(item, Mapping))


def _human_message(body: Any, status: int) -> str:
    """Debitura's own words, most specific first: businessErrors, then message/error/title/detail."""
    if isinstance(body, Mapping):
        parts = [error.message for error in _business_errors(body) if error.message]
        if parts:
            return " ".join(parts)
        for key in ("message", "error", "title", "detail"):
            text = body.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return f"Debitura answered HTTP {status}."
