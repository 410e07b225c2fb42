"""Webhook subscriptions, signed deliveries, the event log and replays."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from debitura.emulator import Emulator, OutgoingWebhook
from debitura.emulator.model import WEBHOOK_EVENTS
from debitura.emulator.server import EmulatorServer
from debitura.webhooks import verify
from tests.fixtures.emulator import EMULATOR_API_KEY, api_client, payment_body, started_case

ALL_EVENTS = list(WEBHOOK_EVENTS)


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


def subscribe(
    api: httpx.Client, events: list[str] = ALL_EVENTS, url: str = "https://portal.example/hooks"
) -> dict[str, Any]:
    response = api.post("/webhooks", json={"url": url, "events": events, "isTestMode": False})
    assert response.status_code == 201
    return response.json()


def test_state_changes_fire_signed_webhooks(
    api: httpx.Client, emulator: Emulator, deliveries: list[OutgoingWebhook]
) -> None:
    secret = subscribe(api)["secret"]

    case = started_case(emulator, api)
    payment_id = api.post(f"/cases/{case.id}/payments", json=payment_body(10)).json()["paymentId"]
    api.delete(f"/cases/{case.id}/payments/{payment_id}")
    api.post(f"/cases/{case.id}/close", json={"closeCode": "DebtorUntraceable"})

    assert [d.event_type for d in deliveries] == [
        "case.assigned",
        "chat.created",
        "case.updated",
        "payment.created",
        "payment.deleted",
        "case.closed",
    ]
    for delivery in deliveries:
        verify(secret, delivery.body, delivery.headers["X-Debitura-Signature"], now=time.time())
        envelope = json.loads(delivery.body)
        assert envelope["event"] == delivery.headers["X-Debitura-Event"]
        assert envelope["data"] == {"caseId": case.id, "reference": case.reference}
        assert set(envelope) == {"id", "specVersion", "event", "timestamp", "data"}


def test_only_subscribed_events_are_delivered(
    api: httpx.Client, emulator: Emulator, deliveries: list[OutgoingWebhook]
) -> None:
    subscribe(api, ["case.closed"])

    case = started_case(emulator, api)
    api.post(f"/cases/{case.id}/close", json={"closeCode": "Other", "comment": "Settled"})

    assert [d.event_type for d in deliveries] == ["case.closed"]


def test_events_are_listed_newest_first_and_can_be_replayed(
    api: httpx.Client, emulator: Emulator, deliveries: list[OutgoingWebhook]
) -> None:
    subscribe(api)
    case = started_case(emulator, api)

    events = api.get("/webhooks/events", params={"caseId": case.id}).json()
    replayed = api.post(f"/webhooks/events/{events[0]['id']}/replay").json()

    assert [e["eventType"] for e in events] == ["case.updated", "chat.created", "case.assigned"]
    assert all(e["attemptCount"] == 1 and e["lastResponseCode"] == 200 for e in events)
    assert replayed["eventId"] == events[0]["id"]
    assert deliveries[-1].headers["X-Debitura-Replay"] == "true"
    assert deliveries[-1].body.decode() == events[0]["payload"]


def test_events_since_filters_by_creation_time(api: httpx.Client, emulator: Emulator) -> None:
    subscribe(api)
    case = started_case(emulator, api)
    emulator.advance_clock(10)
    since = emulator.clock.now().isoformat()
    emulator.creditor_message(case.id, "Hello?")

    events = api.get("/webhooks/events", params={"caseId": case.id, "since": since}).json()

    assert [e["eventType"] for e in events] == ["chat.created"]


def test_events_need_a_case_id(api: httpx.Client) -> None:
    assert api.get("/webhooks/events").status_code == 400
    assert api.post("/webhooks/events/00000000-0000-4000-8000-000000000000/replay").status_code == 404


def test_subscription_crud_never_shows_the_secret_again(api: httpx.Client) -> None:
    created = subscribe(api)

    listed = api.get("/webhooks").json()
    fetched = api.get(f"/webhooks/{created['id']}").json()
    updated = api.put(
        f"/webhooks/{created['id']}", json={"isActive": False, "events": ["case.closed"]}
    ).json()
    rotated = api.put(f"/webhooks/{created['id']}", json={"regenerateSecret": True}).json()
    deleted = api.delete(f"/webhooks/{created['id']}")

    assert listed[0]["secret"] is None
    assert fetched["secret"] is None
    assert (updated["isActive"], updated["events"], updated["secret"]) == (False, ["case.closed"], None)
    assert rotated["secret"] not in (None, created["secret"])
    assert deleted.status_code == 204
    assert api.get(f"/webhooks/{created['id']}").status_code == 404


def test_subscriptions_need_https_and_known_events(api: httpx.Client, emulator: Emulator) -> None:
    insecure = api.post(
        "/webhooks", json={"url": "http://portal.example.com/hooks", "events": ["case.closed"]}
    )
    unknown = api.post(
        "/webhooks", json={"url": "https://portal.example.com/hooks", "events": ["case.exploded"]}
    )
    subscribe(api, url="https://portal.example.com/hooks")
    duplicate = api.post(
        "/webhooks", json={"url": "https://portal.example.com/hooks", "events": ["case.closed"]}
    )
    local = api.post("/webhooks", json={"url": "http://127.0.0.1:8000/hooks", "events": ["case.closed"]})

    assert (insecure.status_code, unknown.status_code, duplicate.status_code, local.status_code) == (
        400,
        400,
        422,
        201,
    )


def test_a_gone_receiver_disables_the_subscription(deliveries: list[OutgoingWebhook]) -> None:
    emulator = Emulator(cases=10, seed=3, api_key="k", deliver=lambda hook: 410)
    with api_client(emulator, api_key="k") as api:
        hook = subscribe(api)
        emulator.new_assignment()

        fetched = api.get(f"/webhooks/{hook['id']}").json()

    assert fetched["isActive"] is False
    assert "410" in fetched["disabledReason"]


def test_the_webhooks_401_has_no_body_contract(emulator: Emulator) -> None:
    with api_client(emulator, api_key="wrong") as api:
        assert api.get("/webhooks").status_code == 401


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()
        self.arrived.set()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.mark.integration
def test_the_server_delivers_webhooks_over_http_in_the_background(emulator_server: EmulatorServer) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.received.clear()
    _Receiver.arrived.clear()
    try:
        with httpx.Client(base_url=emulator_server.url, headers={"XApiKey": EMULATOR_API_KEY}) as client:
            url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
            secret = client.post("/webhooks", json={"url": url, "events": ["case.assigned"]}).json()["secret"]
            case = client.post("/_emulator/assignments", json={}).json()["cases"][0]
            assert _Receiver.arrived.wait(5)
    finally:
        receiver.shutdown()
        receiver.server_close()

    headers, body = _Receiver.received[0]
    verify(secret, body, headers["X-Debitura-Signature"], now=time.time())
    assert json.loads(body)["data"]["caseId"] == case["id"]
