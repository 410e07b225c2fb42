"""Clients for the emulator tests: every exchange is checked against Debitura's spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from debitura.emulator import Emulator
from tests.fixtures.emulator import api_client


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with api_client(emulator) as client:
        yield client


@pytest.fixture
def bad_api(emulator: Emulator) -> Iterator[httpx.Client]:
    """Sends requests the spec forbids on purpose; the answers are still checked."""
    with api_client(emulator, requests=False) as client:
        yield client


@pytest.fixture
def raw_api(emulator: Emulator) -> Iterator[httpx.Client]:
    """For answers the spec does not list (429 anywhere, 401 on most paths): checked by hand."""
    with api_client(emulator, requests=False, responses=False) as client:
        yield client
