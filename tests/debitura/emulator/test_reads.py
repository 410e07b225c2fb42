"""Read operations: the partner, the team, listing and looking up cases."""

from __future__ import annotations

import httpx

from debitura.emulator import Emulator


def test_me_returns_the_partner_profile_with_revenue_shares(api: httpx.Client) -> None:
    me = api.get("/me").json()

    assert me["preLegalRevenueShare"] == 0.4
    assert me["legalRevenueShare"] == 0.2


def test_users_lists_only_active_team_members(api: httpx.Client, emulator: Emulator) -> None:
    users = api.get("/users").json()

    active = [u for u in emulator.state.users.values() if u.active]
    assert [u["email"] for u in users["users"]] == [u.email for u in active]
    assert users["page"]["totalResults"] == len(active) < len(emulator.state.users)


def test_cases_page_defaults_to_ten_and_hides_test_cases(api: httpx.Client, emulator: Emulator) -> None:
    body = api.get("/cases").json()

    visible = [c for c in emulator.state.cases.values() if not c.is_test]
    assert body["page"]["pageSize"] == 10
    assert body["page"]["totalResults"] == len(visible)
    assert len(body["cases"]) == 10
    assert not any(c["isTestCase"] for c in body["cases"])


def test_case_is_found_by_id_and_by_reference(api: httpx.Client, emulator: Emulator) -> None:
    case = next(iter(emulator.state.cases.values()))

    assert api.get(f"/cases/{case.id}").json()["reference"] == case.reference
    assert api.get(f"/cases/case-reference/{case.reference.lower()}").json()["id"] == case.id


def test_server_serves_the_same_emulator_over_loopback(emulator_server) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=emulator_server.url, headers={"XApiKey": "test-api-key"}) as client:
        response = client.get("/cases", params={"PageSize": 5})

    assert response.status_code == 200
    assert len(response.json()["cases"]) == 5
    assert emulator_server.emulator.stats()["requests"]["GET /cases"] == 1
