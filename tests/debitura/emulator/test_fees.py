"""PUT /cases/{id}/fees: fees, principal changes and the price-change confirmation."""

from __future__ import annotations

import httpx

from debitura.emulator import Emulator
from debitura.emulator.model import Case
from tests.fixtures.emulator import started_case

FEES = {"interestFees": 10, "reminderFees": 5, "collectionFees": 20}


def put_fees(api: httpx.Client, case: Case, **extra: object) -> httpx.Response:
    return api.put(f"/cases/{case.id}/fees", json={**FEES, **extra})


def bracket_crossing_principal(case: Case) -> float:
    # Twenty times the principal always lands in another fee bracket for the seeded amounts.
    return float(case.gross_amount * 20)


def test_fees_replace_the_current_values(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    body = put_fees(api, case).json()

    assert (body["totalAddedFees"], body["recalculatedSuccessFee"]) == (35, None)
    fetched = api.get(f"/cases/{case.id}").json()
    assert fetched["remainder"] == fetched["grossAmount"] + 35


def test_a_principal_change_moving_the_fee_needs_confirmation(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    case.intentional_rate = False
    before = api.get(f"/cases/{case.id}").json()

    first = put_fees(api, case, grossAmount=bracket_crossing_principal(case))
    confirmed = put_fees(api, case, grossAmount=bracket_crossing_principal(case), confirmPriceChange=True)

    assert first.status_code == 409
    assert first.json()["confirmationRequired"] is True
    assert first.json()["currentSuccessFee"] == before["preLegalSuccessFee"]
    assert confirmed.json()["recalculatedSuccessFee"] == first.json()["proposedSuccessFee"]
    assert api.get(f"/cases/{case.id}").json()["preLegalSuccessFee"] == first.json()["proposedSuccessFee"]


def test_an_intentional_rate_is_kept_only_with_keep_intentional_rate(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    case.intentional_rate = True
    rate = api.get(f"/cases/{case.id}").json()["preLegalSuccessFee"]
    principal = bracket_crossing_principal(case)

    first = put_fees(api, case, grossAmount=principal)
    confirm = put_fees(api, case, grossAmount=principal, confirmPriceChange=True)
    keep = put_fees(api, case, grossAmount=principal, keepIntentionalRate=True)

    assert first.status_code == 409
    assert first.json()["isIntentionalRate"] is True
    assert confirm.status_code == 400
    assert keep.json()["recalculatedSuccessFee"] == rate
    assert keep.json()["grossAmount"] == principal


def test_fees_are_refused_on_closed_cases(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    api.post(f"/cases/{case.id}/close", json={"closeCode": "DebtorUntraceable"})

    response = put_fees(api, case)

    assert response.status_code == 400
    assert response.json()["businessErrors"][0]["type"] == "InvalidCaseState"


def test_negative_fees_are_refused(bad_api: httpx.Client, api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    assert bad_api.put(f"/cases/{case.id}/fees", json={**FEES, "interestFees": -1}).status_code == 400
