"""Ingestion jobs: notes for many cases, processed a poll at a time, each row on its own."""

from __future__ import annotations

from typing import Any

import httpx

from debitura.emulator import Emulator
from debitura.emulator.model import Case

UNKNOWN_CASE = "00000000-0000-4000-8000-000000000001"


def open_case(emulator: Emulator) -> Case:
    return next(c for c in emulator.state.cases.values() if c.lifecycle == "Active" and not c.is_test)


def closed_case(emulator: Emulator) -> Case:
    return next(c for c in emulator.state.cases.values() if c.lifecycle == "Closed")


def submit(api: httpx.Client, rows: list[dict[str, Any]], **headers: str) -> httpx.Response:
    return api.post("/ingestion-jobs", json={"rows": rows}, headers=headers)


def poll(api: httpx.Client, job_id: str) -> dict[str, Any]:
    response = api.get(f"/ingestion-jobs/{job_id}")
    assert response.status_code == 200
    return response.json()


def test_a_job_is_processing_for_a_poll_then_completes_with_per_row_outcomes(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = open_case(emulator)
    notes_before = len(case.notes)
    rows = [
        {
            "type": 0,
            "caseId": case.id,
            "description": "Debtor promised to pay on Friday.",
            "externalRef": "a",
        },
        {"type": 0, "caseId": UNKNOWN_CASE, "description": "Not ours.", "externalRef": "b"},
        {"type": 0, "caseId": case.id, "description": "Letter sent.", "eventDate": "2025-01-02T10:00:00Z"},
        {"type": 0, "caseId": closed_case(emulator).id, "description": "Too late."},
    ]

    created = submit(api, rows)
    job_id = created.json()["jobId"]

    assert created.status_code == 202
    assert created.json()["rowsQueued"] == 4
    assert poll(api, job_id) == {"status": 1, "rowsTotal": 4, "rowsSucceeded": 0, "rowsFailed": 0}
    assert poll(api, job_id) == {"status": 2, "rowsTotal": 4, "rowsSucceeded": 2, "rowsFailed": 2}
    assert [n.description for n in case.notes[notes_before:]] == [
        "Debtor promised to pay on Friday.",
        "Letter sent.",
    ]


def test_the_control_plane_shows_each_rows_outcome_and_can_finish_a_job(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = open_case(emulator)
    job_id = submit(
        api,
        [
            {"type": 0, "caseId": UNKNOWN_CASE, "description": "Not ours."},
            {"type": 0, "caseId": case.id, "description": "Fine."},
        ],
    ).json()["jobId"]

    with httpx.Client(transport=emulator.transport(), base_url="http://debitura.test") as control:
        finished = control.post(f"/_emulator/ingestion-jobs/{job_id}/finish").json()

    assert finished["status"] == 2
    assert [(r["status"], r["error"] is not None) for r in finished["rows"]] == [
        ("failed", True),
        ("succeeded", False),
    ]
    assert "not found" in finished["rows"][0]["error"].lower()
    assert poll(api, job_id)["rowsSucceeded"] == 1


def test_rows_are_processed_a_batch_per_poll(api: httpx.Client, emulator: Emulator) -> None:
    emulator.ingestion_rows_per_poll = 2
    case = open_case(emulator)
    rows = [{"type": 0, "caseId": case.id, "description": f"Note {n}"} for n in range(5)]
    job_id = submit(api, rows).json()["jobId"]

    seen = [poll(api, job_id) for _ in range(5)]

    assert [(s["status"], s["rowsSucceeded"]) for s in seen] == [(1, 0), (1, 2), (1, 4), (2, 5), (2, 5)]


def test_a_blank_note_fails_its_row_and_an_unreadable_row_refuses_the_job(
    api: httpx.Client, bad_api: httpx.Client, emulator: Emulator
) -> None:
    case = open_case(emulator)
    blank = submit(api, [{"type": 0, "caseId": case.id, "description": "  "}]).json()["jobId"]
    poll(api, blank)
    refused = submit(
        bad_api,
        [
            {"type": 0, "caseId": "not-a-guid", "description": "x"},
            {"type": 1, "caseId": case.id, "description": "a payment row"},
        ],
    )

    assert poll(api, blank)["rowsFailed"] == 1
    assert refused.status_code == 400
    assert sorted(m["message"].split(":")[0] for m in refused.json()["businessErrors"]) == [
        "rows[0].caseId",
        "rows[1].type",
    ]
    assert submit(bad_api, []).status_code == 400


def test_the_same_key_and_rows_queue_one_job(api: httpx.Client, emulator: Emulator) -> None:
    rows = [{"type": 0, "caseId": open_case(emulator).id, "description": "Once."}]

    first = submit(api, rows, **{"Idempotency-Key": "batch-7"})
    again = submit(api, rows, **{"Idempotency-Key": "batch-7"})

    assert again.json() == first.json()
    assert len(emulator.state.jobs) == 1


def test_an_unknown_job_is_not_found(api: httpx.Client) -> None:
    assert api.get(f"/ingestion-jobs/{UNKNOWN_CASE}").status_code == 404
