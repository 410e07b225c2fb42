"""The seeded data: deterministic per seed, and varied enough to exercise the portal."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

from debitura.emulator import Emulator
from debitura.emulator.model import LIFECYCLES
from tests.fixtures.emulator import api_client

DAY = datetime(2025, 6, 1, tzinfo=UTC)


def every_case(emulator: Emulator) -> list[dict[str, Any]]:
    with api_client(emulator, api_key=emulator.api_key) as api:
        pages = [
            api.get("/cases", params={"PageSize": 100, "Page": n, "includeTestCases": "true"})
            for n in (1, 2, 3)
        ]
    return [case for page in pages for case in page.json()["cases"]]


def test_the_same_seed_gives_the_same_data() -> None:
    first = Emulator(cases=120, seed=7, api_key="k", today=DAY)
    second = Emulator(cases=120, seed=7, api_key="k", today=DAY)

    assert every_case(first) == every_case(second)


def test_another_seed_gives_other_data() -> None:
    ids = [
        {c["id"] for c in every_case(Emulator(cases=30, seed=seed, api_key="k", today=DAY))}
        for seed in (1, 2)
    ]

    assert not ids[0] & ids[1]


def test_the_seed_covers_lifecycles_close_codes_currencies_and_parties() -> None:
    cases = every_case(Emulator(cases=300, seed=42, api_key="k", today=DAY))
    lifecycles = Counter(c["lifecycle"] for c in cases)

    partner_facing = set(LIFECYCLES.values()) - {"Pending Contract Signing", "Pending Verification Internal"}
    assert set(lifecycles) == partner_facing
    assert lifecycles["Pending Verification"] > 30
    assert lifecycles["Active"] > 60
    assert len({c["closeCode"] for c in cases if c["closeCode"]}) >= 8
    assert {"EUR", "DKK", "SEK", "NOK", "GBP", "USD", "CHF", "PLN", "JPY"} <= {c["currency"] for c in cases}
    assert {c["debtor"]["type"] for c in cases} == {"Company", "Person"}
    assert len({c["debtor"]["countryAlpha2"] for c in cases}) >= 12
    assert any(c["isTestCase"] for c in cases)
    assert len({c["claimType"] for c in cases}) >= 4
    assert all(
        len(c["reference"]) == 8 and c["reference"].isupper() for c in cases if c["reference"].isalpha()
    )


def test_started_cases_carry_a_partner_reference_and_pending_ones_do_not(emulator: Emulator) -> None:
    cases = emulator.state.cases.values()

    assert all(c.partner_reference for c in cases if c.date_collection_started)
    assert not any(c.partner_reference for c in cases if c.lifecycle == "PendingVerification")


def test_closed_cases_are_consistent_with_their_payments(emulator: Emulator) -> None:
    for case in emulator.state.cases.values():
        if case.close_code == "Paid":
            assert case.payments
            assert case.remainder <= 0
        if case.close_code == "PartiallyPaid":
            assert case.payments
            assert case.remainder > 0


def test_all_seeded_dates_are_in_the_past(api: httpx.Client, emulator: Emulator) -> None:
    now = emulator.clock.now()

    assert all(c.date_updated < now for c in emulator.state.cases.values())
