"""POST /managed-cases and its reads: field checks, routing, idempotency, test-case payments."""

from __future__ import annotations

import copy

import httpx

from debitura.emulator import Emulator
from tests.fixtures.emulator import create_managed_case, managed_case_body


def messages(response: httpx.Response) -> list[str]:
    return [error["message"] for error in response.json()["businessErrors"]]


def test_a_refused_case_names_every_offending_field(bad_api: httpx.Client, emulator: Emulator) -> None:
    body = managed_case_body(currencyCode="", amountToRecover=0)
    body["debtor"] = {"type": "Company", "name": "Pacific Trading LLC", "countryAlpha2": "US"}
    del body["creditorCountryAlpha2"]

    response = bad_api.post("/managed-cases", json=body)

    assert response.status_code == 400
    fields = {message.split(":")[0] for message in messages(response)}
    assert fields == {
        "creditorCountryAlpha2",
        "currencyCode",
        "amountToRecover",
        "debtor.contactPerson",
        "debtor.stateAlpha2",
    }
    assert not emulator.state.managed


def test_a_person_debtor_needs_no_contact_person_but_a_known_type(bad_api: httpx.Client) -> None:
    person = managed_case_body(debtor={"type": "Person", "name": "Jane Roe", "countryAlpha2": "DK"})
    robot = managed_case_body(debtor={"type": "Robot", "name": "R2", "countryAlpha2": "DK"})

    assert bad_api.post("/managed-cases", json=person).status_code == 200
    refused = bad_api.post("/managed-cases", json=robot)
    assert refused.status_code == 400
    assert messages(refused) == ["debtor.type: must be one of Company, Person."]


def test_a_production_case_without_a_partner_for_the_jurisdiction_is_a_business_error(
    api: httpx.Client,
) -> None:
    body = managed_case_body(isTest=False, debtor={"type": "Person", "name": "Ana", "countryAlpha2": "BR"})

    response = api.post("/managed-cases", json=body)

    assert response.status_code == 422
    assert response.json()["businessErrors"][0]["type"] == "NoPartnerAvailable"


def test_the_same_idempotency_key_returns_the_same_case_once(api: httpx.Client, emulator: Emulator) -> None:
    headers = {"Idempotency-Key": "submit-INV-2025-1234"}

    first = api.post("/managed-cases", json=managed_case_body(), headers=headers)
    again = api.post("/managed-cases", json=managed_case_body(), headers=headers)
    other = api.post("/managed-cases", json=managed_case_body(amountToRecover=99.0), headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(emulator.state.managed) == 1
    assert other.status_code == 422
    assert other.json()["businessErrors"][0]["type"] == "IdempotencyConflict"


def test_a_field_error_does_not_use_up_the_key(bad_api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    broken = copy.deepcopy(managed_case_body())
    del broken["currencyCode"]

    assert bad_api.post("/managed-cases", json=broken, headers=headers).status_code == 400
    assert bad_api.post("/managed-cases", json=managed_case_body(), headers=headers).status_code == 200


def test_a_test_case_is_routed_to_the_caller_and_hidden_from_cases_unless_asked_for(
    api: httpx.Client,
) -> None:
    case = create_managed_case(api)

    plain = api.get("/cases", params={"Ids": case["id"]}).json()
    with_tests = api.get("/cases", params={"Ids": case["id"], "includeTestCases": "true"}).json()

    assert case["isTestCase"] is True
    assert case["lifecycle"] == "Pending Verification"
    assert plain["cases"] == []
    assert [c["id"] for c in with_tests["cases"]] == [case["id"]]
    assert api.get(f"/cases/{case['id']}").status_code == 200


def test_a_production_case_goes_to_a_network_partner_and_is_read_only_under_managed_cases(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = create_managed_case(api, isTest=False)

    assert case["collectionPartner"]["name"] != emulator.state.partner.company_name
    assert api.get(f"/cases/{case['id']}").status_code == 404
    assert api.get(f"/managed-cases/{case['id']}").json()["id"] == case["id"]
    assert api.get(f"/managed-cases/case-reference/{case['reference']}").json()["id"] == case["id"]
    listed = api.get("/managed-cases", params={"Ids": case["id"]}).json()
    assert listed["page"]["totalResults"] == 1


def test_only_test_cases_take_payments_from_the_managing_partner(api: httpx.Client) -> None:
    production = create_managed_case(api, isTest=False)
    test = create_managed_case(api)
    payment = {"date": "2025-09-01T00:00:00Z", "paymentAmount": 200.0}

    refused = api.post(f"/managed-cases/{production['id']}/payments", json=payment)
    recorded = api.post(f"/managed-cases/{test['id']}/payments", json=payment)

    assert refused.status_code == 400
    assert refused.json()["businessErrors"][0]["type"] == "ProductionCase"
    assert recorded.status_code == 200
    assert recorded.json()["remainingAmount"] == 1300.0
    listed = api.get(f"/managed-cases/{test['id']}/payments").json()
    assert [(p["grossAmount"], p["recipient"]) for p in listed] == [(200.0, "Creditor")]


def test_close_case_with_a_payment_below_the_balance_is_refused(api: httpx.Client) -> None:
    case = create_managed_case(api)
    payment = {"date": "2025-09-01T00:00:00Z", "paymentAmount": 200.0, "closeCase": True}

    refused = api.post(f"/managed-cases/{case['id']}/payments", json=payment)
    settled = api.post(f"/managed-cases/{case['id']}/payments", json={**payment, "paymentAmount": 1500.0})

    assert refused.status_code == 400
    assert settled.json()["caseClosed"] is True
    assert api.get(f"/managed-cases/{case['id']}").json()["closeCode"] == "Paid"
