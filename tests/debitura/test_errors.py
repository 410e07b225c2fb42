"""The error tree: which answer becomes which error, and what it carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from debitura.errors import (
    AuthError,
    Conflict,
    DebituraError,
    IdempotencyConflict,
    NotFound,
    PermanentError,
    RateLimited,
    RequestInvalid,
    ServerError,
    TransientError,
    ValidationFailed,
    error_for_response,
    retry_after_header,
)
from debitura.types import BusinessError

NOW = datetime(2025, 11, 19, 12, 0, tzinfo=UTC)


def classify(status: int, body: object = None, headers: dict[str, str] | None = None, method: str = "POST"):
    return error_for_response(status, body, headers or {}, method=method, now=NOW)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationFailed),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (409, Conflict),
        (413, ValidationFailed),
        (415, ValidationFailed),
        (422, ValidationFailed),
        (410, PermanentError),
    ],
)
def test_client_errors_are_permanent_with_a_class_per_status(status: int, cls: type[PermanentError]) -> None:
    error = classify(status, {"error": "x"})
    assert type(error) is cls
    assert isinstance(error, PermanentError)
    assert error.status == status


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status: int) -> None:
    error = classify(status)
    assert isinstance(error, ServerError)
    assert isinstance(error, TransientError)
    assert error.status == status


def test_a_500_on_a_write_is_ambiguous_because_it_may_have_been_applied() -> None:
    error = classify(500, method="POST")
    assert isinstance(error, TransientError)
    assert error.ambiguous


def test_a_503_means_not_processed_so_it_is_not_ambiguous() -> None:
    error = classify(503, method="POST")
    assert isinstance(error, TransientError)
    assert not error.ambiguous


def test_a_failed_read_is_never_ambiguous() -> None:
    error = classify(500, method="GET")
    assert isinstance(error, TransientError)
    assert not error.ambiguous


def test_429_is_rate_limited_with_retry_after_from_the_body() -> None:
    error = classify(429, {"error": "rate_limit_exceeded", "message": "Slow down", "retryAfter": 42.0})
    assert isinstance(error, RateLimited)
    assert isinstance(error, TransientError)
    assert error.retry_after == 42.0
    assert not error.ambiguous
    assert str(error) == "Slow down"


def test_429_falls_back_to_a_retry_after_header_in_seconds() -> None:
    error = classify(429, {"error": "rate_limit_exceeded"}, {"retry-after": "17"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 17.0


def test_429_reads_a_retry_after_http_date() -> None:
    error = classify(429, None, {"retry-after": "Wed, 19 Nov 2025 12:01:30 GMT"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 90.0


def test_the_body_wins_over_the_header() -> None:
    error = classify(429, {"retryAfter": 5}, {"retry-after": "60"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 5.0


def test_429_without_any_hint_has_no_retry_after() -> None:
    error = classify(429, "Too many")
    assert isinstance(error, RateLimited)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("Wed, 19 Nov 2025 11:00:00 GMT", 0.0),  # already past
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_header_values(value: str | None, expected: float | None) -> None:
    assert retry_after_header(value, NOW) == expected


def test_business_errors_are_typed_and_lead_the_message() -> None:
    body = {
        "error": "Bad Request",
        "message": "Validation failed",
        "businessErrors": [
            {
                "type": "MissingUserIdentifier",
                "message": "Give userEmail.",
                "solutionUrl": "https://x.test/fix",
            },
            {"type": "Other", "message": "And another thing."},
        ],
    }
    error = classify(400, body)
    assert isinstance(error, ValidationFailed)
    assert error.business_errors == (
        BusinessError(
            type="MissingUserIdentifier", message="Give userEmail.", solution_url="https://x.test/fix"
        ),
        BusinessError(type="Other", message="And another thing.", solution_url=None),
    )
    assert error.message == "Give userEmail. And another thing."
    assert error.body == body
    assert error.error_types == {"MissingUserIdentifier", "Other"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "Case is closed.", "error": "Conflict"}, "Case is closed."),
        ({"error": "Conflict"}, "Conflict"),
        ({"title": "Unauthorized", "detail": "Bad key", "status": 401}, "Unauthorized"),
        ({"detail": "Bad key"}, "Bad key"),
        ({"businessErrors": [], "message": "Plain."}, "Plain."),
        ("<html>502 Bad Gateway</html>", "Debitura answered HTTP 409."),
        (None, "Debitura answered HTTP 409."),
    ],
)
def test_the_human_message_falls_back_through_debituras_fields(body: object, message: str) -> None:
    error = classify(409, body)
    assert isinstance(error, PermanentError)
    assert error.message == message
    assert str(error) == message


def test_an_idempotency_conflict_is_recognisable() -> None:
    body = {"businessErrors": [{"type": "IdempotencyConflict", "message": "Key reused with another body."}]}
    error = classify(422, body)
    assert isinstance(error, IdempotencyConflict)
    assert isinstance(error, ValidationFailed)
    assert error.is_idempotency_conflict


def test_an_ordinary_422_is_not_an_idempotency_conflict() -> None:
    error = classify(422, {"businessErrors": [{"type": "PaymentInvoiced", "message": "Frozen."}]})
    assert isinstance(error, ValidationFailed)
    assert not isinstance(error, IdempotencyConflict)
    assert not error.is_idempotency_conflict


def test_request_invalid_carries_field_messages() -> None:
    error = RequestInvalid({"comment": "is required.", "closeCode": "must be one of Debitura's close codes."})
    assert isinstance(error, DebituraError)
    assert error.errors["comment"] == "is required."
    assert "comment: is required." in str(error)


def test_every_error_is_a_debitura_error() -> None:
    for status in (400, 401, 404, 409, 422, 429, 500):
        assert isinstance(classify(status), DebituraError)


def test_a_409_for_a_request_still_in_flight_is_transient_and_not_ambiguous() -> None:
    from debitura.errors import RequestInFlight, TransientError

    body = {
        "error": "conflict",
        "message": "A request with this Idempotency-Key is still being processed.",
        "businessErrors": [
            {"type": "IdempotencyInProgress", "message": "Still processing.", "solutionUrl": None}
        ],
    }
    error = classify(409, body)
    assert isinstance(error, RequestInFlight)
    assert isinstance(error, TransientError)
    assert not error.ambiguous
    assert error.retry_after == 2.0


def test_any_other_409_stays_a_permanent_conflict() -> None:
    body = {"error": "conflict", "message": "Case is merged.", "businessErrors": [{"type": "CaseMerged"}]}
    assert isinstance(classify(409, body), Conflict)
