"""The first import at the size agencies have: 10,000 cases."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cases.models import Case
from cases.sync import cases_sync_incremental
from debitura.emulator import Emulator
from tests.fixtures.case_json import DATE_PATHS, FIELD_PATHS, UUID_PATHS, dig, remote_json, stamp
from tests.fixtures.gateway import make_client

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture(scope="module")
def big_emulator() -> Emulator:
    return Emulator(cases=10_000, seed=7, api_key="test-api-key")


def test_a_first_sync_of_ten_thousand_cases_stores_all_with_at_most_105_list_requests(big_emulator):
    # No contract hooks here: validating 10,000 cases against the schema would dominate the run.
    with make_client(big_emulator.transport(), event_hooks={}) as client:
        run = cases_sync_incremental(client=client)

    assert not run.error
    assert Case.objects.count() == len(big_emulator.state.cases) == 10_000
    assert big_emulator.stats()["requests"]["GET /cases"] <= 105
    for case in Case.objects.order_by("id")[::997]:
        remote = remote_json(big_emulator, str(case.id))
        for column, path in FIELD_PATHS.items():
            expected = dig(remote, path)
            actual = getattr(case, column)
            assert actual == expected or (expected is None and actual in ("", None)), column
        for column, key in DATE_PATHS.items():
            assert getattr(case, column) == stamp(remote.get(key)), column
        for column, paths in UUID_PATHS.items():
            expected = next((value for path in paths if (value := dig(remote, path))), None)
            assert (str(getattr(case, column)) if getattr(case, column) else None) == expected, column
        assert case.lifecycle.lower() == remote["lifecycle"].replace(" ", "").lower()
        assert json.loads(json.dumps(case.raw), parse_float=Decimal) == remote
