"""A bulk note's job rows and how its note is recognised on a timeline (shared by the outbox
handler, which sends and counts, and the polling, which reads the results)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime

from debitura.types import IngestionNote
from outbox.models import OutboxAction


def bulk_note_rows(action: OutboxAction) -> list[IngestionNote]:
    """The job's rows, from the outbox row alone: the same body on every attempt."""
    p = action.payload
    moment = parse_datetime(p["event_date"]) if p.get("event_date") else None
    return [
        IngestionNote(
            case_id=case_id,
            description=p["description"],
            event_date=moment,
            external_ref=f"bulknote-{p['bulk_note']}",
        )
        for case_id in p["case_ids"]
    ]


def same_text(description: str | None, text: str) -> bool:
    """A timeline entry carries the note's text (compared as the single note's check does)."""
    return (description or "").strip() == text.strip()
