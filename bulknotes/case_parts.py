"""What bulk notes add to the portal's pages, registered from BulknotesConfig.ready(): on the case
page a section listing the bulk notes sent to the case, pending at once (the optimistic change, as
a single note's row shows pending in the case's actions) and then done or failed, each linked to
its job's page; on the case list an entry in the bar of actions on the ticked cases.

Bulk notes are the portal's own: the part is never fetched (its name is not in
cases.sync.CHILD_PARTS); its rows move the case page's live stamp, so an outcome shows there
without a reload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from bulknotes.models import BulkNoteCase
from cases.children import ChildPart, ListAction, child_part_register, list_action_register
from cases.models import Case
from debitura.client import DebituraClient

SHOWN = 10


def case_bulk_notes_context(case: Case) -> dict[str, Any]:
    """The case's newest bulk notes with this case's outcome (one query)."""
    rows = list(
        BulkNoteCase.objects.filter(case=case)
        .select_related("bulk_note", "bulk_note__author")
        .order_by("-bulk_note__created_at")[:SHOWN]
    )
    return {"bulk_note_cases": rows}


def _not_fetched(client: DebituraClient, case_id: str) -> None:
    return None


def _not_stored(case: Case, fetched: Any, now: datetime) -> None:
    return None


def _rows() -> QuerySet[BulkNoteCase]:
    return BulkNoteCase.objects.all()


BULK_NOTES_PART = ChildPart(
    name="bulk_notes",
    fetch=_not_fetched,
    store=_not_stored,
    rows=_rows,
    stamp_at="updated_at",
    page=case_bulk_notes_context,
    template="bulknotes/_case_bulk_notes.html",
)
POST_NOTE = ListAction(
    name="bulk_note",
    label="Post a progress note…",
    url_name="bulknotes:new",
    permission="accounts.work_cases",
)


def bulknotes_register() -> None:
    """Register the case page's section and the list's bulk action with cases (idempotent)."""
    child_part_register(BULK_NOTES_PART)
    list_action_register(POST_NOTE)
