"""Answers of the /test/ operations, which drive test cases (isTestCase) only."""

from __future__ import annotations

from debitura.types.base import ApiStruct


class AdvanceResult(ApiStruct):
    """Where a test case is after an advance; `advanced` is False when it was there already."""

    advanced: bool = False
    state: str | None = None


class FireResult(ApiStruct):
    """A fired test event: how many deliveries were queued (0: no test subscription wants it)."""

    event_type: str | None = None
    case_id: str | None = None
    enqueued_count: int = 0
