"""The /_emulator/ control plane: behaviour over time, stats, the request log, reset, the clock."""

from __future__ import annotations

import httpx

from debitura.emulator import Emulator
from tests.fixtures.emulator import payment_body, started_case


def test_a_new_assignment_arrives_pending_and_newest(api: httpx.Client, emulator: Emulator) -> None:
    created = api.post("/_emulator/assignments", json={"count": 2}).json()["cases"]

    newest = api.get("/cases", params={"Sort": "DateCreated:desc", "PageSize": 2}).json()["cases"]

    assert {c["id"] for c in newest} == {c["id"] for c in created}
    assert {c["lifecycle"] for c in newest} == {"Pending Verification"}


def test_a_creditor_message_is_unseen_in_the_chat(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    api.post(f"/_emulator/cases/{case.id}/creditor-message", json={"message": "Any news?"})

    last = api.get(f"/cases/{case.id}/chats").json()[-1]
    assert (last["message"], last["role"], last["isSeen"]) == ("Any news?", 1, False)


def test_a_creditor_withdrawal_closes_and_ends_exclusivity(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    api.post(f"/_emulator/cases/{case.id}/withdraw")

    assert api.get(f"/cases/{case.id}").json()["closeCode"] == "Withdrawn by Client"
    period = api.get(f"/cases/{case.id}/exclusive-period").json()
    assert (period["status"], period["daysRemaining"]) == ("Terminated", 0)


def test_merge_and_invoice_through_the_control_plane(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    payment_id = api.post(f"/cases/{case.id}/payments", json=payment_body(10)).json()["paymentId"]

    invoiced = api.post(f"/_emulator/payments/{payment_id}/invoice")
    merged = api.post(f"/_emulator/cases/{case.id}/merge", json={})

    assert invoiced.json()["invoiced"] is True
    assert merged.json()["lifecycle"] == "Merged"
    assert api.post(f"/_emulator/cases/{case.id}/withdraw").status_code == 400
    assert api.post("/_emulator/cases/00000000-0000-4000-8000-000000000000/withdraw").status_code == 404


def test_touch_changes_n_cases_which_then_lead_the_date_updated_order(api: httpx.Client) -> None:
    touched = api.post("/_emulator/touch", json={"count": 25}).json()["cases"]

    newest = api.get("/cases", params={"Sort": "DateUpdated:desc", "PageSize": 25}).json()["cases"]

    assert len(touched) == 25
    assert {c["id"] for c in newest} == {c["id"] for c in touched}


def test_stats_count_requests_by_spec_template(api: httpx.Client, emulator: Emulator) -> None:
    case = next(iter(emulator.state.cases.values()))
    api.get("/cases")
    api.get(f"/cases/{case.id}")
    api.get(f"/cases/{case.id}/payments")

    stats = api.get("/_emulator/stats").json()

    assert stats == emulator.stats()
    assert stats["requests"] == {"GET /cases": 1, "GET /cases/{id}": 1, "GET /cases/{id}/payments": 1}


def test_the_request_log_records_bodies_and_keys_and_filters(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    api.post(f"/cases/{case.id}/payments", json=payment_body(10), headers={"Idempotency-Key": "abc"})

    logged = api.get(
        "/_emulator/requests", params={"method": "POST", "template": "/cases/{id}/payments"}
    ).json()

    assert len(logged) == 1
    assert logged[0]["idempotencyKey"] == "abc"
    assert logged[0]["body"]["paymentAmount"] == 10
    assert logged[0]["path"] == f"/cases/{case.id}/payments"
    assert emulator.requests(status=200, template="/cases/{id}/start")[0].method == "POST"


def test_reset_goes_back_to_the_seeded_state(api: httpx.Client, emulator: Emulator) -> None:
    before = api.get("/cases", params={"PageSize": 100, "includeTestCases": "true"}).json()
    started_case(emulator, api)
    emulator.set_faults(latency_ms=1)
    emulator.advance_clock(3600)

    api.post("/_emulator/reset")

    after = api.get("/cases", params={"PageSize": 100, "includeTestCases": "true"}).json()
    assert after == before
    assert emulator.clock.offset == 0
    assert emulator.faults.config.latency_ms == 0
    assert emulator.stats()["requests"] == {"GET /cases": 1}


def test_the_clock_can_be_moved(api: httpx.Client, emulator: Emulator) -> None:
    moved = api.post("/_emulator/clock", json={"offsetSeconds": 86400}).json()
    advanced = api.post("/_emulator/clock", json={"advanceSeconds": 60}).json()

    assert moved["offsetSeconds"] == 86400
    assert advanced["offsetSeconds"] == 86460
    assert advanced["now"] > moved["now"]
    assert emulator.clock.offset == 86460


def test_rate_limits_can_be_set_through_the_control_plane(api: httpx.Client) -> None:
    limits = api.post("/_emulator/rate-limits", json={"perMinute": 5}).json()

    assert limits == {"perMinute": 5, "perHour": 20_000, "perDay": 100_000}
    assert api.post("/_emulator/rate-limits", json={"perMinute": -1}).status_code == 400


def test_health_and_unknown_control_paths(api: httpx.Client) -> None:
    assert api.get("/_emulator/health").json()["cases"] == 50
    assert api.get("/_emulator/nothing").status_code == 404


def test_a_team_member_added_at_the_control_plane_may_start_cases_and_chat(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = emulator.new_assignment(claim_type="Unpaid Invoice", disputed=False)[0]
    start = {"welcomeMessage": "We have taken over your case.", "userEmail": "new.agent@agency.example"}
    refused = api.post(f"/cases/{case.id}/start", json=start)

    added = api.post("/_emulator/team", json={"email": "new.agent@agency.example", "name": "New Agent"})

    assert refused.status_code == 400
    assert added.status_code == 201
    assert added.json()["name"] == "New Agent"
    assert "new.agent@agency.example" in {u["email"] for u in api.get("/users").json()["users"]}
    assert api.post(f"/cases/{case.id}/start", json=start).status_code == 200
    chat = {"message": "Hello.", "userEmail": "New.Agent@agency.example"}
    assert api.post(f"/cases/{case.id}/chats", json=chat).status_code == 200


def test_adding_a_member_twice_keeps_one_and_brings_back_one_who_left(
    api: httpx.Client, emulator: Emulator
) -> None:
    left = next(u for u in emulator.state.users.values() if not u.active)
    before = len(emulator.state.users)

    again = api.post("/_emulator/team", json={"email": left.email.upper()})
    api.post("/_emulator/team", json={"email": left.email})

    assert again.json()["id"] == left.id
    assert len(emulator.state.users) == before
    assert left.email in {u["email"] for u in api.get("/users").json()["users"]}
    assert api.post("/_emulator/team", json={"email": "not an address"}).status_code == 400


def test_team_members_given_at_start_are_listed_and_survive_a_reset() -> None:
    emulator = Emulator(cases=5, seed=42, team=[("Alex Agent", "agent@demo.example")])
    seeded = Emulator(cases=5, seed=42)

    emulator.reset()

    member = next(u for u in emulator.state.users.values() if u.email == "agent@demo.example")
    assert (member.name, member.active) == ("Alex Agent", True)
    # The seeded data is the same with or without extra members.
    assert list(emulator.state.cases) == list(seeded.state.cases)
    assert emulator.new_assignment()[0].id == seeded.new_assignment()[0].id
