"""Injected faults: 5xx share, drops after the effect, timeouts, 429 bursts, latency, filters."""

from __future__ import annotations

import socket

import httpx
import pytest

from debitura.emulator import DroppedResponse, Emulator, SimulatedTimeout
from debitura.emulator.server import EmulatorServer
from tests.fixtures.emulator import payment_body, started_case


def test_a_share_of_requests_fails_with_500(api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=0.5, seed=7)

    statuses = [api.get("/me").status_code for _ in range(200)]

    assert set(statuses) == {200, 500}
    assert 60 < statuses.count(500) < 140


def test_the_same_fault_seed_gives_the_same_failures(emulator: Emulator, api: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        emulator.set_faults(error_rate=0.3, seed=11)
        runs.append([api.get("/me").status_code for _ in range(30)])

    assert runs[0] == runs[1]


def test_a_500_answer_does_not_apply_the_change(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    emulator.set_faults(error_rate=1)

    response = api.post(f"/cases/{case.id}/payments", json=payment_body(100))

    assert response.status_code == 500
    assert case.payments == []


def test_a_dropped_response_still_applies_the_change(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    emulator.set_faults(drop_rate=1, paths=["/cases/{id}/payments"])

    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/cases/{case.id}/payments", json=payment_body(100))

    assert len(case.payments) == 1
    assert emulator.request_log[-1].fault == "drop"


def test_a_timeout_in_process_raises_read_timeout_after_the_effect(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    emulator.set_faults(timeout_rate=1, methods=["POST"])

    with pytest.raises(httpx.ReadTimeout):
        api.post(f"/cases/{case.id}/notes", json={"description": "Called."})

    assert [n.description for n in case.notes] == ["Called."]


def test_the_wsgi_app_itself_raises_the_fault_exceptions(emulator: Emulator) -> None:
    client = httpx.Client(transport=httpx.WSGITransport(app=emulator), base_url="http://debitura.test")
    emulator.set_faults(drop_rate=1)
    with pytest.raises(DroppedResponse):
        client.get("/me", headers={"XApiKey": emulator.api_key})
    emulator.set_faults(timeout_rate=1)
    with pytest.raises(SimulatedTimeout):
        client.get("/me", headers={"XApiKey": emulator.api_key})


def test_a_burst_of_429_hits_the_next_requests_only(raw_api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(burst_429=2)

    responses = [raw_api.get("/me") for _ in range(3)]

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].json()["error"] == "rate_limit_exceeded"
    assert responses[0].headers["Retry-After"] == "1"


def test_faults_can_be_limited_to_one_operation(api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=1, methods=["GET"], paths=["/users"])

    assert api.get("/me").status_code == 200
    assert api.get("/users").status_code == 500


def test_faults_never_touch_the_control_plane(api: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=1, burst_429=5)

    assert api.get("/_emulator/stats").status_code == 200
    assert api.post("/_emulator/faults", json={}).status_code == 200
    assert api.get("/me").status_code == 200


def test_invalid_fault_settings_are_refused(api: httpx.Client) -> None:
    assert api.post("/_emulator/faults", json={"errorRate": 2}).status_code == 400
    assert api.post("/_emulator/faults", json={"explode": True}).status_code == 400


@pytest.mark.integration
def test_a_dropped_response_closes_the_socket_in_server_mode(emulator_server: EmulatorServer) -> None:
    emulator = emulator_server.emulator
    with httpx.Client(base_url=emulator_server.url, headers={"XApiKey": emulator.api_key}) as client:
        case = started_case(emulator, client)
        client.post("/_emulator/faults", json={"dropRate": 1, "paths": ["/cases/{id}/payments"]})
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(f"/cases/{case.id}/payments", json=payment_body(100))
        assert client.get("/me").status_code == 200

    assert len(case.payments) == 1


@pytest.mark.integration
def test_a_timeout_holds_the_answer_in_server_mode(emulator_server: EmulatorServer) -> None:
    emulator = emulator_server.emulator
    emulator.set_faults(timeout_rate=1, timeout_seconds=1, paths=["/me"])
    with httpx.Client(
        base_url=emulator_server.url, headers={"XApiKey": emulator.api_key}, timeout=0.2
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/me")
        assert client.get("/users").status_code == 200


@pytest.mark.integration
def test_the_server_handles_raw_http_from_several_connections(emulator_server: EmulatorServer) -> None:
    request = f"GET /me HTTP/1.1\r\nHost: x\r\nXApiKey: {emulator_server.emulator.api_key}\r\n\r\n".encode()
    host, port = emulator_server.host, emulator_server.port
    sockets = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
    for sock in sockets:
        sock.sendall(request)
    answers = [sock.recv(64) for sock in sockets]
    for sock in sockets:
        sock.close()

    assert all(answer.startswith(b"HTTP/1.0 200") for answer in answers)


def test_a_refusal_answers_400_with_a_business_error_and_applies_nothing(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    emulator.set_faults(refuse_rate=1, methods=["POST"], paths=["/cases/{id}/notes"])

    refused = api.post(f"/cases/{case.id}/notes", json={"description": "Called."})
    read = api.get(f"/cases/{case.id}")

    assert refused.status_code == 400
    assert [e["type"] for e in refused.json()["businessErrors"]] == ["InjectedRefusal"]
    assert case.notes == []
    assert read.status_code == 200
