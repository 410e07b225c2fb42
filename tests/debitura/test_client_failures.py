"""How the gateway fails: transient vs permanent, ambiguity, retries, 429 waits, and what it logs."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial

import httpx
import pytest
from pytest_httpx import HTTPXMock

from debitura.client import DebituraClient
from debitura.emulator import Emulator
from debitura.errors import (
    DebituraError,
    RateLimited,
    ResponseInvalid,
    ServerError,
    TransientError,
)
from tests.fixtures.gateway import FakeClock, make_client

BASE = "http://debitura.test"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(emulator: Emulator, sleeps: list[float]) -> DebituraClient:
    return make_client(emulator.transport(), sleep=sleeps.append)


def active_case_id(emulator: Emulator) -> str:
    return next(c.id for c in emulator.state.cases.values() if c.lifecycle == "Active" and not c.is_test)


def test_a_5xx_on_a_read_is_retried_then_raised_as_transient(
    client: DebituraClient, emulator: Emulator, sleeps: list[float]
) -> None:
    emulator.set_faults(error_rate=1.0)
    with pytest.raises(ServerError) as caught:
        client.get_me()
    assert caught.value.status == 500
    assert not caught.value.ambiguous
    assert emulator.stats()["requests"]["GET /me"] == 3
    assert sleeps == [0.5, 1.0]


def test_a_transient_read_failure_that_clears_is_invisible_to_the_caller(
    client: DebituraClient, emulator: Emulator
) -> None:
    emulator.set_faults(burst_429=1)
    assert client.get_me().id
    assert emulator.stats()["requests"]["GET /me"] == 2


def test_429_waits_the_retry_after_from_the_body_then_retries(
    client: DebituraClient, emulator: Emulator, sleeps: list[float]
) -> None:
    emulator.set_faults(burst_429=1)
    client.get_me()
    (record, retry) = emulator.requests(template="/me")
    assert record.status == 429
    assert retry.status == 200
    assert sleeps == [1.0]  # the emulator's body says retryAfter 1.0


def test_a_429_asking_for_a_long_wait_is_raised_for_the_scheduler(
    client: DebituraClient, emulator: Emulator, sleeps: list[float]
) -> None:
    emulator.set_rate_limits(per_minute=1, per_hour=100, per_day=1000)
    client.get_me()
    with pytest.raises(RateLimited) as caught:
        client.get_me()
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 10
    assert not caught.value.ambiguous
    assert sleeps == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [("drop_rate", TransientError), ("timeout_rate", TransientError), ("error_rate", ServerError)],
)
def test_a_write_whose_answer_is_lost_or_5xx_is_ambiguous_and_not_retried(
    client: DebituraClient, emulator: Emulator, fault: str, error: type[TransientError]
) -> None:
    case_id = active_case_id(emulator)
    emulator.set_faults(**{fault: 1.0}, methods=["POST"])
    with pytest.raises(error) as caught:
        client.create_note(case_id, description="Called the debtor.")
    assert caught.value.ambiguous
    assert emulator.stats()["requests"]["POST /cases/{id}/notes"] == 1


def test_a_read_timeout_on_a_read_is_retried(client: DebituraClient, emulator: Emulator) -> None:
    emulator.set_faults(timeout_rate=1.0, methods=["GET"])
    with pytest.raises(TransientError) as caught:
        client.get_me()
    assert not caught.value.ambiguous
    assert emulator.stats()["requests"]["GET /me"] == 3


def test_a_429_on_a_write_is_retried_because_nothing_happened(
    client: DebituraClient, emulator: Emulator, sleeps: list[float]
) -> None:
    case_id = active_case_id(emulator)
    emulator.set_faults(burst_429=1, methods=["POST"])
    note = client.create_note(case_id, description="Called the debtor.")
    assert note.description == "Called the debtor."
    assert sleeps == [1.0]


def test_callers_never_see_httpx_exceptions(client: DebituraClient, emulator: Emulator) -> None:
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(DebituraError) as caught:
        client.get_me()
    assert not isinstance(caught.value, httpx.HTTPError)
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


def test_one_log_line_per_attempt_with_template_status_and_no_key(
    client: DebituraClient, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = active_case_id(emulator)
    emulator.set_faults(burst_429=1)
    with caplog.at_level(logging.DEBUG, logger="debitura.client"):
        client.get_case(case_id)
    lines = [record.getMessage() for record in caplog.records if record.name == "debitura.client"]
    assert len(lines) == 2
    assert lines[0].startswith("debitura GET /cases/{id} 429 ")
    assert lines[0].endswith("attempt=1")
    assert lines[1].startswith("debitura GET /cases/{id} 200 ")
    assert lines[1].endswith("attempt=2")
    assert all("test-api-key" not in line and case_id not in line for line in lines)


# --- Conditions the emulator cannot produce -------------------------------------------------------


@pytest.fixture
def mocked_client(sleeps: list[float]) -> DebituraClient:
    """A client on the real HTTP transport, which pytest-httpx intercepts."""
    return DebituraClient(BASE, "test-api-key", throttle=None, sleep=sleeps.append, max_retry_wait=120)


def test_a_retry_after_http_date_header_is_honoured(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient, sleeps: list[float]
) -> None:
    when = "Wed, 21 Oct 2099 07:28:00 GMT"
    httpx_mock.add_response(url=f"{BASE}/me", status_code=429, headers={"Retry-After": when})
    with pytest.raises(RateLimited) as caught:
        mocked_client.get_me()
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 1_000_000  # far beyond max_retry_wait: not slept on
    assert sleeps == []


def test_a_retry_after_seconds_header_is_used_when_the_body_has_none(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=f"{BASE}/me", status_code=429, headers={"Retry-After": "3"}, text="slow down")
    httpx_mock.add_response(url=f"{BASE}/me", json={"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})
    assert mocked_client.get_me().id == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert sleeps == [3.0]


def test_a_503_with_an_html_body_is_transient_and_not_ambiguous(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    html = "<html><body><h1>503 Service Unavailable</h1></body></html>"
    httpx_mock.add_response(method="POST", status_code=503, html=html, is_reusable=True)
    with pytest.raises(ServerError) as caught:
        mocked_client.create_note("3fa85f64-5717-4562-b3fc-2c963f66afa6", description="Called.")
    assert not caught.value.ambiguous
    assert "<html>" not in str(caught.value)
    assert caught.value.status == 503


def test_connection_refused_is_transient_not_ambiguous_and_retried(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), is_reusable=True)
    with pytest.raises(TransientError) as caught:
        mocked_client.create_note("3fa85f64-5717-4562-b3fc-2c963f66afa6", description="Called.")
    assert not caught.value.ambiguous
    assert "could not be reached" in str(caught.value)
    assert len(httpx_mock.get_requests()) == 3
    assert sleeps == [0.5, 1.0]


def test_a_success_that_is_not_json_is_response_invalid(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    httpx_mock.add_response(url=f"{BASE}/me", status_code=200, html="<html>captive portal</html>")
    with pytest.raises(ResponseInvalid):
        mocked_client.get_me()


def test_a_success_missing_a_required_field_is_response_invalid(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    httpx_mock.add_response(url=f"{BASE}/cases/abc", json={"id": "abc", "remainder": 1})
    with pytest.raises(ResponseInvalid, match="grossAmount"):
        mocked_client.get_case("abc")


def test_every_request_has_explicit_connect_and_read_timeouts(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    httpx_mock.add_response(url=f"{BASE}/me", json={"id": "x"})
    mocked_client.get_me()
    (request,) = httpx_mock.get_requests()
    timeouts = request.extensions["timeout"]
    assert timeouts["connect"] == 5.0
    assert timeouts["read"] == 20.0


def test_the_real_throttle_is_asked_for_a_slot_per_attempt(emulator: Emulator) -> None:
    clock = FakeClock()
    acquired: list[int] = []

    class CountingThrottle:
        def acquire(self, weight: int = 1) -> None:
            acquired.append(weight)

    client = make_client(emulator.transport(), throttle=CountingThrottle(), sleep=clock.sleep)
    emulator.set_faults(burst_429=1)
    client.get_me()
    assert acquired == [1, 1]


def test_amounts_reach_debitura_with_every_digit(client: DebituraClient, emulator: Emulator) -> None:
    case_id = active_case_id(emulator)
    client.update_fees(
        case_id,
        interest_fees=Decimal("12.34"),
        reminder_fees=Decimal("0.10"),
        collection_fees=Decimal("1000000.01"),
    )
    (record,) = emulator.requests(template="/cases/{id}/fees")
    assert record.body["collectionFees"] == 1000000.01
    assert client.get_case(case_id).collection_fees == Decimal("1000000.01")


def test_the_key_is_in_no_repr(emulator: Emulator) -> None:
    client = DebituraClient("http://debitura.test", "super-s3cret-key", transport=emulator.transport())
    assert "super-s3cret-key" not in repr(client)
    assert "super-s3cret-key" not in repr(client.__dict__)
    assert "super-s3cret-key" not in repr(client._http.headers)


def test_a_malformed_case_page_is_response_invalid_naming_the_case_and_field(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    cases = [{"id": f"c{n}", "grossAmount": 1, "remainder": 0} for n in range(5)]
    cases[3]["remainder"] = "none"
    httpx_mock.add_response(url=f"{BASE}/cases?Page=1&PageSize=100", json={"cases": cases}, is_reusable=True)
    for read in (mocked_client.list_cases, partial(mocked_client.list_case_values, (("id",),))):
        with pytest.raises(ResponseInvalid, match=r"^/cases: CasePage\.cases\[3\]\.remainder: ") as caught:
            read()
        assert caught.value.status == 200


def test_an_empty_success_where_a_result_is_due_is_response_invalid(
    httpx_mock: HTTPXMock, mocked_client: DebituraClient
) -> None:
    httpx_mock.add_response(url=f"{BASE}/me", status_code=200, content=b"")
    with pytest.raises(ResponseInvalid, match="empty"):
        mocked_client.get_me()
