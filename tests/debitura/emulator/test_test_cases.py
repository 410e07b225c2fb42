"""The /test/ operations: advance, hard delete by id and by tag, replay, fire."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from debitura.emulator import Emulator, OutgoingWebhook
from debitura.webhooks import verify
from tests.fixtures.emulator import EMULATOR_API_KEY, create_managed_case


@pytest.fixture
def deliveries() -> list[OutgoingWebhook]:
    return []


@pytest.fixture
def emulator(deliveries: list[OutgoingWebhook]) -> Emulator:
    """The emulator with deliveries captured synchronously instead of posted."""

    def capture(hook: OutgoingWebhook) -> int:
        deliveries.append(hook)
        return 200

    return Emulator(cases=50, seed=42, api_key=EMULATOR_API_KEY, deliver=capture)


def subscribe(api: httpx.Client, *, test_mode: bool, events: list[str] | None = None) -> dict[str, Any]:
    body = {
        "url": f"https://hooks.example/{'test' if test_mode else 'live'}",
        "events": events or ["case.updated", "case.closed", "payment.created", "chat.created"],
        "isTestMode": test_mode,
    }
    response = api.post("/webhooks", json=body)
    assert response.status_code == 201
    return response.json()


def advance(api: httpx.Client, case_id: str, to: str, amount: float | None = None) -> httpx.Response:
    body: dict[str, Any] = {"to": to} if amount is None else {"to": to, "amount": amount}
    return api.post(f"/test/cases/{case_id}/advance", json=body)


def test_advancing_to_closed_paid_activates_pays_and_closes_then_is_a_no_op(
    api: httpx.Client, deliveries: list[OutgoingWebhook]
) -> None:
    subscribe(api, test_mode=True)
    case = create_managed_case(api)
    deliveries.clear()

    first = advance(api, case["id"], "Closed:Paid", 1500.0)
    fired = [d.event_type for d in deliveries]
    again = advance(api, case["id"], "Closed:Paid", 1500.0)

    assert first.json() == {"advanced": True, "state": "Closed:Paid"}
    assert fired == ["case.updated", "payment.created", "case.updated", "case.closed"]
    assert again.json() == {"advanced": False, "state": "Closed:Paid"}
    assert len(deliveries) == len(fired)
    shown = api.get(f"/cases/{case['id']}").json()
    assert (shown["lifecycle"], shown["closeCode"], shown["remainder"]) == ("Closed", "Paid", 0.0)


def test_a_closed_case_cannot_be_advanced_to_another_close(api: httpx.Client) -> None:
    case = create_managed_case(api)
    advance(api, case["id"], "Closed:NoPayment")

    refused = advance(api, case["id"], "Closed:Paid", 10.0)

    assert refused.status_code == 400
    assert refused.json()["businessErrors"][0]["type"] == "CloseCodeMismatch"
    assert advance(api, case["id"], "Active").json() == {"advanced": False, "state": "Closed:NoPayment"}


def test_advance_refuses_production_cases_and_unknown_targets(api: httpx.Client, emulator: Emulator) -> None:
    production = next(c for c in emulator.state.cases.values() if not c.is_test)
    test = create_managed_case(api)

    assert advance(api, production.id, "Active").json()["businessErrors"][0]["type"] == "NotATestCase"
    assert advance(api, test["id"], "Paused").status_code == 400
    assert advance(api, test["id"], "Closed:Paid").json()["businessErrors"][0]["type"] == "MissingField"


def test_deleting_by_tag_removes_only_that_runs_test_cases(api: httpx.Client, emulator: Emulator) -> None:
    mine = [create_managed_case(api, tag="run-a")["id"] for _ in range(2)]
    other = create_managed_case(api, tag="run-b")["id"]

    assert api.delete("/test/cases", params={"tag": "run-a"}).status_code == 204

    assert [api.get(f"/managed-cases/{case_id}").status_code for case_id in mine] == [404, 404]
    assert api.get(f"/managed-cases/{other}").status_code == 200
    assert all(case_id not in emulator.state.cases for case_id in mine)
    assert api.delete("/test/cases", params={"tag": "run-a"}).status_code == 204


def test_a_tag_on_a_production_case_refuses_the_whole_deletion(api: httpx.Client) -> None:
    test = create_managed_case(api, tag="shared")["id"]
    create_managed_case(api, tag="shared", isTest=False)

    refused = api.delete("/test/cases", params={"tag": "shared"})

    assert refused.status_code == 400
    assert api.get(f"/managed-cases/{test}").status_code == 200
    assert api.delete("/test/cases", params={"tag": " "}).status_code == 400


def test_deleting_a_test_case_is_hard_and_idempotent(api: httpx.Client, emulator: Emulator) -> None:
    case = create_managed_case(api)
    api.post(
        f"/managed-cases/{case['id']}/payments", json={"date": "2025-09-01T00:00:00Z", "paymentAmount": 5.0}
    )
    production = next(c for c in emulator.state.cases.values() if not c.is_test)

    assert api.delete(f"/test/cases/{case['id']}").status_code == 204
    assert api.delete(f"/test/cases/{case['id']}").status_code == 204
    assert not [p for p in emulator.state.payments.values() if p.case_id == case["id"]]
    assert api.delete(f"/test/cases/{production.id}").status_code == 400
    assert api.delete("/test/cases/00000000-0000-4000-8000-000000000009").status_code == 404


def test_fire_delivers_a_signed_event_to_test_subscriptions_only(
    api: httpx.Client, deliveries: list[OutgoingWebhook]
) -> None:
    test_hook = subscribe(api, test_mode=True)
    subscribe(api, test_mode=False)
    case = create_managed_case(api)
    deliveries.clear()

    fired = api.post("/test/webhooks/fire", json={"event": "case.updated", "caseId": case["id"]})

    assert fired.json() == {"eventType": "case.updated", "caseId": case["id"], "enqueuedCount": 1}
    [delivery] = deliveries
    assert delivery.url == "https://hooks.example/test"
    assert delivery.headers["X-Debitura-Event"] == "case.updated"
    verify(test_hook["secret"], delivery.body, delivery.headers["X-Debitura-Signature"], now=time.time())
    assert b'"classification":"test"' in delivery.body


def test_fire_needs_the_data_its_event_describes(api: httpx.Client) -> None:
    subscribe(api, test_mode=True)
    case = create_managed_case(api)

    missing = api.post("/test/webhooks/fire", json={"event": "payment.created", "caseId": case["id"]})
    unknown = api.post("/test/webhooks/fire", json={"event": "case.exploded", "caseId": case["id"]})

    assert missing.status_code == 422
    assert unknown.status_code == 400


def test_fire_to_a_live_subscription_is_refused(api: httpx.Client) -> None:
    live = subscribe(api, test_mode=False)
    case = create_managed_case(api)

    refused = api.post(
        "/test/webhooks/fire",
        json={"event": "case.updated", "caseId": case["id"], "subscriptionId": live["id"]},
    )

    assert refused.status_code == 400


def test_replaying_the_last_event_resends_it_marked_as_a_replay(
    api: httpx.Client, deliveries: list[OutgoingWebhook]
) -> None:
    subscribe(api, test_mode=True)
    case = create_managed_case(api)
    advance(api, case["id"], "Closed:NoPayment")
    deliveries.clear()

    replayed = api.post(f"/test/cases/{case['id']}/replay-last-event")

    assert replayed.json()["eventType"] == "case.closed"
    [delivery] = deliveries
    assert delivery.headers["X-Debitura-Replay"] == "true"
    assert delivery.event_id == replayed.json()["eventId"]


def test_replay_without_events_is_not_found(api: httpx.Client) -> None:
    case = create_managed_case(api)

    assert api.post(f"/test/cases/{case['id']}/replay-last-event").status_code == 404
