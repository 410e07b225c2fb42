"""Clients for the emulator tests: every exchange is checked against Debitura's spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from debitura.emulator import Emulator
from tests.contract import contract_hooks
from tests.fixtures.emulator import EMULATOR_API_KEY

BASE_URL = "http://debitura.test"


def api_client(emulator: Emulator, *, api_key: str = EMULATOR_API_KEY, checked: bool = True) -> httpx.Client:
    """An in-process client; `checked` validates every request and response against the spec."""
    return httpx.Client(
        transport=emulator.transport(),
        base_url=BASE_URL,
        headers={"XApiKey": api_key, "Accept": "application/json"},
        event_hooks=contract_hooks() if checked else None,
    )


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with api_client(emulator) as client:
        yield client


@pytest.fixture
def raw_api(emulator: Emulator) -> Iterator[httpx.Client]:
    """For answers the spec does not list (429 anywhere, 401 on most paths): checked by hand."""
    with api_client(emulator, checked=False) as client:
        yield client
