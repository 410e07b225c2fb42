"""Add a note to a case (shared with the creditor), optionally back-dated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from cases.actions.write import WORKABLE, Kind, action_fields, case_action_write
from cases.models import Case
from debitura import validation
from outbox.models import OutboxAction


def case_note_add(
    *,
    case: Case,
    actor: Any,
    description: str,
    event_date: datetime | None = None,
    token: str | None = None,
) -> OutboxAction:
    """Add a note (shared with the creditor), optionally back-dated."""
    with action_fields({"eventDate": "event_date"}):
        validation.check_note(description=description, event_date=event_date, now=timezone.now())
    payload = {"description": description, "event_date": event_date.isoformat() if event_date else None}
    return case_action_write(
        case=case, actor=actor, kind=Kind.NOTE, payload=payload, token=token, allowed=WORKABLE
    )
