"""The API key and the per-key rate limits."""

from __future__ import annotations

import httpx
import pytest

from debitura.emulator import Emulator, RateLimits
from tests.fixtures.emulator import api_client


@pytest.mark.parametrize("path", ["/me", "/users"])
def test_a_wrong_key_is_a_401_problem_details(emulator: Emulator, path: str) -> None:
    with api_client(emulator, api_key="wrong") as client:
        response = client.get(path)

    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


def test_a_missing_key_is_a_401_everywhere(raw_api: httpx.Client) -> None:
    del raw_api.headers["XApiKey"]

    response = raw_api.get("/cases")

    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_the_rate_limit_answers_429_with_retry_after(raw_api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_rate_limits(per_minute=3, per_hour=100, per_day=1000)

    statuses = [raw_api.get("/me").status_code for _ in range(4)]
    limited = raw_api.get("/me")

    assert statuses == [200, 200, 200, 429]
    body = limited.json()
    assert body["error"] == "rate_limit_exceeded"
    assert 0 < body["retryAfter"] <= 60
    assert int(limited.headers["Retry-After"]) >= body["retryAfter"]


def test_the_minute_window_slides(raw_api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_rate_limits(per_minute=2, per_hour=100, per_day=1000)
    raw_api.get("/me")
    raw_api.get("/me")

    emulator.advance_clock(61)

    assert raw_api.get("/me").status_code == 200


def test_the_hour_limit_holds_after_a_minute(raw_api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_rate_limits(per_minute=100, per_hour=2, per_day=1000)
    raw_api.get("/me")
    raw_api.get("/me")

    emulator.advance_clock(120)
    limited = raw_api.get("/me")

    assert limited.status_code == 429
    assert limited.json()["retryAfter"] > 3000


def test_limits_can_be_tiny_from_the_constructor() -> None:
    emulator = Emulator(cases=5, seed=1, api_key="k", rate_limits=RateLimits(per_minute=1))
    with api_client(emulator, api_key="k", responses=False) as client:
        assert [client.get("/me").status_code for _ in range(2)] == [200, 429]


def test_limits_are_per_key(raw_api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_rate_limits(per_minute=1, per_hour=100, per_day=1000)
    raw_api.get("/me")

    refused = raw_api.get("/me", headers={"XApiKey": "wrong"})

    assert refused.status_code == 401
