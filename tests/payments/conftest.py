"""Fixtures for the payment tests: GET /me from the emulator, and no duplicated payment there, ever."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

import payments.services
from debitura.errors import TransientError
from payments.services import SHARES_CACHE_KEY


def _unreachable() -> Any:
    raise TransientError("No Debitura in this test.", ambiguous=False)


@pytest.fixture(autouse=True)
def revenue_shares_source(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GET /me goes to the in-process emulator when the test has one; the cache starts empty."""
    cache.clear()
    if "emulator" in request.fixturenames:
        client = request.getfixturevalue("sync_client")
        monkeypatch.setattr(payments.services, "get_client", lambda: client)
    else:
        monkeypatch.setattr(payments.services, "get_client", _unreachable)
    yield
    cache.delete(SHARES_CACHE_KEY)


@pytest.fixture(autouse=True)
def no_duplicated_payment_at_the_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test with an emulator: no two of its new payments share case, date and amount."""
    if "emulator" not in request.fixturenames:
        yield
        return
    emulator = request.getfixturevalue("emulator")
    before = set(emulator.state.payments)
    yield
    with emulator.state.lock:
        new = [p for pid, p in emulator.state.payments.items() if pid not in before]
        seen = Counter((p.case_id, p.date.date(), p.amount) for p in new)
    duplicated = {key: n for key, n in seen.items() if n > 1}
    assert not duplicated, f"the emulator holds duplicated payments: {duplicated}"
