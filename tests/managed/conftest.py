"""Fixtures for the submitted cases: a valid "Submit case" form, the relay and the sync on the
in-process emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from debitura.client import DebituraClient
from tests.fixtures.outbox import NOW


def submit_form(**overrides: Any) -> dict[str, Any]:
    """The fields an agent fills in for a German company's unpaid invoice (a production case)."""
    data: dict[str, Any] = {
        "token": uuid.uuid4().hex,
        "creditor_company_name": "Acme Services Inc",
        "creditor_country_alpha2": "dk",
        "currency_code": "eur",
        "amount_to_recover": "2450.50",
        "date": "2025-08-19",
        "due_date": "2025-09-02",
        "creditor_reference": "INV-2025-77",
        "debtor_type": "Company",
        "debtor_name": "Berliner Handels GmbH",
        "debtor_contact_person": "Jana Weber",
        "debtor_country_alpha2": "DE",
        "debtor_city": "Berlin",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def relay(sync_client: DebituraClient, queued_relays: Any) -> Callable[..., Any]:
    """Run the outbox relay once on the in-process emulator at a given moment: relay(now=...)."""
    from outbox.relay import outbox_relay_due

    def run(*, now: Any = NOW) -> Any:
        return outbox_relay_due(client=sync_client, now=now)

    return run


@pytest.fixture
def managed_sync(sync_client: DebituraClient) -> Callable[..., Any]:
    """Run the submitted cases' sync once on the in-process emulator."""
    from managed.sync import managed_cases_sync

    def run(**kwargs: Any) -> Any:
        result = managed_cases_sync(client=sync_client, **kwargs)
        assert not result.error, result.error
        return result

    return run
