"""Clients for the emulator tests: every exchange is checked against Debitura's spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from debitura.emulator import Emulator
from debitura.emulator.model import Case, User
from tests.contract import contract_hooks
from tests.fixtures.emulator import EMULATOR_API_KEY

BASE_URL = "http://debitura.test"


def api_client(
    emulator: Emulator, *, api_key: str = EMULATOR_API_KEY, requests: bool = True, responses: bool = True
) -> httpx.Client:
    """An in-process client validating what it sends and receives against the spec."""
    hooks = contract_hooks()
    return httpx.Client(
        transport=emulator.transport(),
        base_url=BASE_URL,
        headers={"XApiKey": api_key, "Accept": "application/json"},
        event_hooks={
            "request": hooks["request"] if requests else [],
            "response": hooks["response"] if responses else [],
        },
    )


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


def team_member(emulator: Emulator) -> User:
    return next(u for u in emulator.state.users.values() if u.active)


def pending_case(emulator: Emulator, *, custom_terms: bool = False) -> Case:
    """A new standard (or custom-terms) case, fresh from Debitura."""
    if custom_terms:
        return emulator.new_assignment(claim_type="Breach of Contract")[0]
    return emulator.new_assignment(claim_type="Unpaid Invoice", disputed=False)[0]


def started_case(emulator: Emulator, api: httpx.Client) -> Case:
    """A case the partner just accepted through the API."""
    case = pending_case(emulator)
    body = {"welcomeMessage": "We have taken over your case.", "userEmail": team_member(emulator).email}
    assert api.post(f"/cases/{case.id}/start", json=body).status_code == 200
    return case


def payment_body(amount: object, **extra: object) -> dict[str, object]:
    return {
        "date": "2025-01-15T00:00:00Z",
        "paymentAmount": amount,
        "paymentRecipient": "CollectionPartner",
        **extra,
    }
