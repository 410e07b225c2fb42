"""Idempotency-Key on POST payments and chats: replay, conflict, in flight."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from debitura.emulator import Emulator
from debitura.emulator.server import EmulatorServer
from tests.fixtures.emulator import payment_body, started_case, team_member


def test_same_key_and_body_replays_the_first_answer(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    headers = {"Idempotency-Key": "pay-1"}

    first = api.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)
    again = api.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)

    assert again.content == first.content
    assert len(case.payments) == 1


def test_same_key_with_another_body_is_an_idempotency_conflict(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    headers = {"Idempotency-Key": "pay-1"}
    api.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)

    response = api.post(f"/cases/{case.id}/payments", json=payment_body(101), headers=headers)

    assert response.status_code == 422
    assert response.json()["businessErrors"][0]["type"] == "IdempotencyConflict"
    assert len(case.payments) == 1


def test_validation_errors_are_not_stored_so_a_fixed_request_can_reuse_the_key(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    headers = {"Idempotency-Key": "pay-1"}

    broken = api.post(f"/cases/{case.id}/payments", json=payment_body(100, payoutCreditor=1), headers=headers)
    fixed = api.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)

    assert (broken.status_code, fixed.status_code) == (400, 200)


def test_chat_messages_replay_on_the_same_key(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    body = {"message": "Any news?", "userEmail": team_member(emulator).email}

    first = api.post(f"/cases/{case.id}/chats", json=body, headers={"Idempotency-Key": "chat-1"})
    again = api.post(f"/cases/{case.id}/chats", json=body, headers={"Idempotency-Key": "chat-1"})

    assert again.json()["id"] == first.json()["id"]
    assert [m.message for m in case.chats].count("Any news?") == 1


def test_chat_key_with_another_body_conflicts(
    raw_api: httpx.Client, api: httpx.Client, emulator: Emulator
) -> None:
    # API-NOTES: 422 IdempotencyConflict; the spec lists no 422 for chats (see docs/emulator.md).
    case = started_case(emulator, api)
    member = team_member(emulator).email
    raw_api.post(
        f"/cases/{case.id}/chats",
        json={"message": "One", "userEmail": member},
        headers={"Idempotency-Key": "k"},
    )

    response = raw_api.post(
        f"/cases/{case.id}/chats",
        json={"message": "Two", "userEmail": member},
        headers={"Idempotency-Key": "k"},
    )

    assert response.status_code == 422
    assert response.json()["businessErrors"][0]["type"] == "IdempotencyConflict"


def test_keys_longer_than_255_characters_are_refused(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    response = httpx.Client(transport=emulator.transport(), base_url="http://debitura.test").post(
        f"/cases/{case.id}/payments",
        json=payment_body(100),
        headers={"XApiKey": emulator.api_key, "Idempotency-Key": "k" * 256},
    )

    assert response.status_code == 400


@pytest.mark.integration
def test_a_retry_while_the_first_is_in_flight_is_a_409(emulator_server: EmulatorServer) -> None:
    emulator = emulator_server.emulator
    with httpx.Client(
        base_url=emulator_server.url, headers={"XApiKey": emulator.api_key}, timeout=10
    ) as client:
        case = started_case(emulator, client)
        emulator.set_faults(latency_ms=400, methods=["POST"], paths=["/cases/{id}/payments"])
        headers = {"Idempotency-Key": "slow-1"}
        first: list[httpx.Response] = []
        worker = threading.Thread(
            target=lambda: first.append(
                client.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)
            )
        )
        worker.start()
        deadline = time.monotonic() + 5
        while "slow-1" not in emulator.idempotency.in_flight() and time.monotonic() < deadline:
            time.sleep(0.005)

        racing = client.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)
        worker.join()
        replay = client.post(f"/cases/{case.id}/payments", json=payment_body(100), headers=headers)

    assert racing.status_code == 409
    assert racing.headers["Retry-After"] == "1"
    assert first[0].status_code == 200
    assert replay.content == first[0].content
    assert len(case.payments) == 1
