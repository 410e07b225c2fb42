"""Fixtures for the payment tests: GET /me from the emulator, an empty cache.

tests/fixtures/emulator.py checks that the emulator never ends a test holding a payment twice.
"""

from __future__ import annotations

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
