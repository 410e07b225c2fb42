"""POST /ingestion-jobs and GET /ingestion-jobs/{jobId}: batches of notes, processed asynchronously.

A job's progress is deterministic so tests can wait on states: it is Queued when created, the
first poll finds it Processing with nothing done, and every later poll processes the next
`rows_per_poll` rows (Emulator.ingestion_rows_per_poll) until it is Completed. The control plane
finishes a job at once and shows each row's outcome, which the API reports only as counts.

The spec gives AsyncJobStatus as bare numbers 0..4; the names here (Queued, Processing,
Completed, Failed, Cancelled) are ours. A job whose rows all failed still ends Completed: the
rows failed, not the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import operations
from .api import DebituraApi, uuid_param
from .errors import ApiError, bad_request, not_found
from .http import Request, Response, RouteTable, is_uuid, json_response
from .operations import Body
from .state import State

QUEUED, PROCESSING, COMPLETED, FAILED, CANCELLED = range(5)
NOTE = 0
# Beyond the first poll (which only starts the job), each poll processes this many rows.
ROWS_PER_POLL = 100

route = RouteTable()
control = RouteTable("/_emulator")


@dataclass
class JobRow:
    """One submitted row and, once processed, its outcome."""

    case_id: str
    description: str | None
    event_date: str | None
    external_ref: str | None
    succeeded: bool | None = None
    error: str | None = None


@dataclass
class IngestionJob:
    """A batch of rows and how far processing got."""

    id: str
    rows: list[JobRow]
    created: datetime
    status: int = QUEUED
    done: int = 0
    results: dict[str, int] = field(default_factory=lambda: {"succeeded": 0, "failed": 0})

    def as_json(self) -> dict[str, Any]:
        """IngestionJobStatusResponse."""
        return {
            "status": self.status,
            "rowsTotal": len(self.rows),
            "rowsSucceeded": self.results["succeeded"],
            "rowsFailed": self.results["failed"],
        }

    def rows_json(self) -> list[dict[str, Any]]:
        """Each row's outcome (control plane only: the API reports counts)."""
        return [
            {
                "index": index,
                "caseId": row.case_id,
                "externalRef": row.external_ref,
                "status": "pending"
                if row.succeeded is None
                else ("succeeded" if row.succeeded else "failed"),
                "error": row.error,
            }
            for index, row in enumerate(self.rows)
        ]


def _row(body: Body, index: int, payload: Any) -> JobRow | None:
    """One row's shape (400 when it cannot be read); its content is checked when processed."""
    where = f"rows[{index}]"
    if not isinstance(payload, dict):
        body.fail(where, "must be an object.")
        return None
    kind = payload.get("type", NOTE)
    if isinstance(kind, bool) or kind != NOTE:
        body.fail(f"{where}.type", "only Note rows (type 0) are supported.", "UnsupportedRowType")
    case_id = payload.get("caseId")
    if not isinstance(case_id, str) or not is_uuid(case_id):
        body.fail(
            f"{where}.caseId", "must be a GUID.", "MissingField" if case_id is None else "ValidationError"
        )
    row = Body(payload)
    description = row.text("description")
    row.moment("eventDate")
    external_ref = row.text("externalRef")
    for kind_, message in row.problems:
        body.problems.append((kind_, f"{where}.{message}"))
    if not isinstance(case_id, str):
        return None
    event_date = payload.get("eventDate") if isinstance(payload.get("eventDate"), str) else None
    return JobRow(case_id.lower(), description, event_date, external_ref)


def job_create(state: State, payload: dict[str, Any]) -> IngestionJob:
    """Check a CreateIngestionJobRequest and queue its rows (400 lists every unreadable field)."""
    body = Body(payload)
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows:
        body.fail("rows", "at least one row is required.", "MissingField")
        body.check()
    parsed = [_row(body, index, item) for index, item in enumerate(rows or [])]
    body.check()
    job = IngestionJob(state.ids.uuid(), [row for row in parsed if row is not None], state.clock.now())
    state.jobs[job.id] = job
    return job


def job_advance(state: State, job: IngestionJob, rows: int | None) -> None:
    """Process the next `rows` rows (all when None); the job is Completed after its last one."""
    if job.status in (COMPLETED, FAILED, CANCELLED):
        return
    job.status = PROCESSING
    end = len(job.rows) if rows is None else min(len(job.rows), job.done + rows)
    for row in job.rows[job.done : end]:
        _process(state, row)
        job.results["succeeded" if row.succeeded else "failed"] += 1
    job.done = end
    if job.done == len(job.rows):
        job.status = COMPLETED


def job_poll(state: State, job: IngestionJob, rows_per_poll: int) -> None:
    """What one GET does to a job: start a queued one, or process the next rows of a running one."""
    if job.status == QUEUED:
        job.status = PROCESSING
    elif job.status == PROCESSING:
        job_advance(state, job, rows_per_poll)


def _process(state: State, row: JobRow) -> None:
    """Add the row's note to its case, as POST /cases/{id}/notes would; a refusal fails the row."""
    case = state.cases.get(row.case_id)
    if case is None:
        row.succeeded, row.error = False, "Case not found or not assigned to you as collection partner."
        return
    if not (row.description or "").strip():
        row.succeeded, row.error = False, "description: is required for Note rows."
        return
    try:
        operations.note_create(state, case, {"description": row.description, "eventDate": row.event_date})
    except ApiError as error:
        row.succeeded, row.error = False, error.body()["businessErrors"][0]["message"]
        return
    row.succeeded = True


class IngestionApi:
    """The /ingestion-jobs operations."""

    route_table = route

    def __init__(self, api: DebituraApi) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.emulator.state

    @route("POST", "/ingestion-jobs")
    def create_ingestion_job(self, request: Request) -> Response:
        def work() -> Response:
            payload = request.json()
            with self.state.lock:
                job = job_create(self.state, payload)
            return json_response(202, {"jobId": job.id, "rowsQueued": len(job.rows)})

        return self.api.idempotent(request, work)

    @route("GET", "/ingestion-jobs/{jobId}")
    def get_ingestion_job(self, request: Request) -> Response:
        with self.state.lock:
            job = job_of(self.state, request.params["jobId"])
            job_poll(self.state, job, self.api.emulator.ingestion_rows_per_poll)
            return json_response(200, job.as_json())


def job_of(state: State, job_id: str) -> IngestionJob:
    # The operation documents no 400: a malformed id is simply not a job of yours.
    job = state.jobs.get(job_id.lower())
    if not isinstance(job, IngestionJob):
        raise not_found("Ingestion job not found or not owned by this partner.")
    return job


class IngestionControl:
    """/_emulator/ingestion-jobs...: look at rows' outcomes, finish a job now, set the pace."""

    route_table = control

    def __init__(self, api: DebituraApi) -> None:
        self.api = api

    @control("GET", "/ingestion-jobs/{jobId}")
    def inspect(self, request: Request) -> Response:
        state = self.api.emulator.state
        with state.lock:
            job = job_of(state, uuid_param(request.params["jobId"], "jobId"))
            return json_response(200, {"id": job.id, **job.as_json(), "rows": job.rows_json()})

    @control("POST", "/ingestion-jobs/{jobId}/finish")
    def finish(self, request: Request) -> Response:
        state = self.api.emulator.state
        with state.lock:
            job = job_of(state, request.params["jobId"])
            job_advance(state, job, None)
            return json_response(200, {"id": job.id, **job.as_json(), "rows": job.rows_json()})

    @control("POST", "/ingestion")
    def pace(self, request: Request) -> Response:
        payload = request.json() if request.body.strip() else {}
        rows = payload.get("rowsPerPoll", self.api.emulator.ingestion_rows_per_poll)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise bad_request("rowsPerPoll: must be a positive integer.")
        self.api.emulator.ingestion_rows_per_poll = rows
        return json_response(200, {"rowsPerPoll": rows})
