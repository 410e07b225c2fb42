"""Ingestion jobs: batches of notes Debitura adds to cases asynchronously (POST /ingestion-jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from debitura.enums import IngestionJobStatus
from debitura.serialization import format_datetime
from debitura.types.base import ApiStruct

# IngestionJobRow.type: only notes exist today; payments and status updates are reserved.
NOTE_ROW = 0


class IngestionNote(msgspec.Struct, frozen=True, kw_only=True):
    """A note for one case, one row of an ingestion job; `external_ref` is the agency's own id."""

    case_id: str
    description: str
    event_date: datetime | None = None
    external_ref: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The row as IngestionJobRow JSON (None values are left out when sent)."""
        return {
            "type": NOTE_ROW,
            "caseId": self.case_id,
            "description": self.description,
            "eventDate": format_datetime(self.event_date) if self.event_date else None,
            "externalRef": self.external_ref,
        }


class IngestionJobCreated(ApiStruct):
    """The answer to submitting a job: its id, to poll, and how many rows were queued."""

    job_id: str
    rows_queued: int = 0


class IngestionJob(ApiStruct):
    """A job's progress; Debitura reports counts, not which rows failed."""

    status: IngestionJobStatus = IngestionJobStatus.UNKNOWN
    rows_total: int = 0
    rows_succeeded: int = 0
    rows_failed: int = 0

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self.status in (
            IngestionJobStatus.COMPLETED,
            IngestionJobStatus.FAILED,
            IngestionJobStatus.CANCELLED,
        )

    @property
    def rows_pending(self) -> int:
        """Rows not processed yet."""
        return max(0, self.rows_total - self.rows_succeeded - self.rows_failed)
