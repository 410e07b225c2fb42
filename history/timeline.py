"""A case's history in one timeline, newest first: the portal's actions sent to Debitura (outbox
rows), the local changes (history.tracked's historical models, worded "Assignee: Anna → Bo") and,
for those who may see them, who opened the case.

Each source is read newest first and already limited to what a page needs, then the three are
merged (heapq.merge), so a page costs one query per source however long the history is. A page
is `offset` entries in: deeper pages read more rows, never more queries.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from cases.models import Case
from history.models import CaseView
from history.recording import BASELINE
from history.tracked import Tracked, history_tracked
from outbox.models import OutboxAction
from partnerportal.money import money_text

PAGE_SIZE = 50


@dataclass(frozen=True)
class Entry:
    """One line of a case's history."""

    at: datetime
    source: str  # "action", "change" or "view"
    who: str
    what: str
    state: str = ""  # an action's state (its value), for the badge
    state_label: str = ""
    detail: str = ""  # Debitura's answer to an action; a change's reason
    finished_at: datetime | None = None  # when Debitura's answer came


@dataclass(frozen=True)
class HistoryPage:
    """One page of the timeline and where the next and previous ones start."""

    entries: list[Entry]
    offset: int
    next_offset: int | None
    previous_offset: int | None


def user_name(user: Any) -> str:
    """A user as people call them: the full name, else the username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# What an action said, by kind: the payload value that tells one action of a kind from another.
_SAID: dict[str, str] = {
    OutboxAction.Kind.ACCEPT: "partner_reference",
    OutboxAction.Kind.DECLINE: "comment",
    OutboxAction.Kind.CLOSE: "comment",
    OutboxAction.Kind.NOTE: "description",
    OutboxAction.Kind.CHAT: "message",
    OutboxAction.Kind.FILE_UPLOAD: "file_name",
}
_PAYMENTS = {
    OutboxAction.Kind.PAYMENT_CREATE,
    OutboxAction.Kind.PAYMENT_UPDATE,
    OutboxAction.Kind.PAYMENT_DELETE,
}
SAID_LENGTH = 140


def _what(action: OutboxAction, currency: str) -> str:
    """The action's kind, with what it said: "Note: Called the debtor ..."; "Record payment: 10.00 EUR"."""
    payload = action.payload if isinstance(action.payload, dict) else {}
    label = action.get_kind_display()
    if action.kind in _PAYMENTS and payload.get("amount") is not None:
        return f"{label}: {money_text(payload['amount'], currency)}"
    said = str(payload.get(_SAID.get(action.kind, ""), "") or "").strip()
    if not said:
        return label
    if action.kind == OutboxAction.Kind.ACCEPT:
        said = f"agency reference {said}"
    return f"{label}: {said[:SAID_LENGTH]}{'…' if len(said) > SAID_LENGTH else ''}"


def _actions(case: Case, limit: int | None) -> Iterator[Entry]:
    rows = case.actions.select_related("actor").order_by("-created_at", "-pk")
    for action in rows[:limit] if limit is not None else rows.iterator(chunk_size=500):
        yield Entry(
            at=action.created_at,
            source="action",
            who=user_name(action.actor) or "The portal",
            what=_what(action, case.currency),
            state=action.state,
            state_label=action.get_state_display(),
            # Debitura's answer in words where it refused or failed; a done action's badge says the rest.
            detail=action.last_error,
            finished_at=action.done_at,
        )


def _views(case: Case, limit: int | None) -> Iterator[Entry]:
    rows = CaseView.objects.filter(case=case).select_related("user").order_by("-opened_at", "-pk")
    for view in rows[:limit] if limit is not None else rows.iterator(chunk_size=500):
        yield Entry(at=view.opened_at, source="view", who=user_name(view.user), what="Opened the case")


def _value(tracked: Tracked, row: Any, field: models.Field[Any, Any]) -> str:
    if isinstance(field, models.ForeignKey):
        value = getattr(row, field.name)
        words = user_name(value) if hasattr(value, "get_full_name") else str(value or "")
    else:
        words = str(getattr(row, field.attname) or "")
    return words or tracked.empty.get(field.name, "none")


def _words(tracked: Tracked, row: Any, previous: Any | None) -> list[str]:
    """What a row changed, field by field: "Assignee: Anna → Bo"."""
    said = []
    for field in row.tracked_fields:  # the tracked model's own fields
        if field.primary_key:
            continue
        name = tracked.words.get(field.name, str(field.verbose_name).capitalize())
        new = _value(tracked, row, field)
        if previous is None:
            said.append(f"{name}: {new}")
        elif getattr(previous, field.attname) != getattr(row, field.attname):
            said.append(f"{name}: {_value(tracked, previous, field)} → {new}")
    return said


def _changes(case: Case, limit: int | None) -> Iterator[Entry]:
    entries: list[Entry] = []
    for tracked, history in history_tracked():
        if not tracked.case_field:
            continue
        foreign = [f.name for f in history._meta.concrete_fields if isinstance(f, models.ForeignKey)]
        rows = history.objects.filter(**{tracked.case_field: case.pk}).select_related(*foreign)  # type: ignore[attr-defined]
        rows = rows.order_by("-history_date", "-history_id")
        # Each change may have a baseline after it: twice the page, and one row more for the
        # predecessor of the last change shown.
        listed = list(rows[: 2 * limit + 2] if limit is not None else rows)
        pk = history.instance_type._meta.pk.attname  # type: ignore[attr-defined]
        for position, row in enumerate(listed):
            if row.history_change_reason == BASELINE:
                continue
            previous = next((r for r in listed[position + 1 :] if getattr(r, pk) == getattr(row, pk)), None)
            said = _words(tracked, row, previous)
            if previous is not None and not said:
                continue  # saved without a change to a tracked field
            entries.append(
                Entry(
                    at=row.history_date,
                    source="change",
                    who=user_name(row.history_user) or "The portal",
                    what="; ".join(said),
                    detail=row.history_change_reason or "",
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    yield from entries


def case_history_entries(*, case: Case, with_views: bool, limit: int | None = None) -> Iterator[Entry]:
    """The case's timeline, newest first; `limit` bounds what each source reads (None: all)."""
    sources: list[Iterable[Entry]] = [_actions(case, limit), _changes(case, limit)]
    if with_views:
        sources.append(_views(case, limit))
    merged = heapq.merge(*sources, key=lambda entry: entry.at, reverse=True)
    return itertools.islice(merged, limit) if limit is not None else merged


def case_history_page(*, case: Case, with_views: bool, offset: int = 0, size: int = PAGE_SIZE) -> HistoryPage:
    """One page of the timeline, `offset` entries in; one query per source."""
    entries = list(case_history_entries(case=case, with_views=with_views, limit=offset + size + 1))
    shown = entries[offset : offset + size]
    return HistoryPage(
        entries=shown,
        offset=offset,
        next_offset=offset + size if len(entries) > offset + size else None,
        previous_offset=max(0, offset - size) if offset else None,
    )
