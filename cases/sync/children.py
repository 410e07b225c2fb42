"""One case and its children: re-fetching a case, fetching and storing its timeline, chat,
payments, files, exclusivity chain and validation items, and reading back what an action changed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.changes import SYNC, cases_changed_on_commit
from cases.children import child_parts
from cases.models import Case, CaseFile, ChatMessage, ExclusivityExtension, TimelineItem, ValidationItem
from cases.sync.pages import case_upsert, cases_upsert_page
from cases.sync.rows import OPEN_LIFECYCLES, ChildPriority, _s
from cases.unread import case_unread_recount
from debitura import types
from debitura.client import DebituraClient, get_client
from debitura.errors import NotFound


def case_refresh(*, case_id: str, client: DebituraClient | None = None, children: bool = True) -> Case | None:
    """Re-fetch one case (and its children) from Debitura; None when Debitura no longer shows it."""
    client = client or get_client()
    try:
        remote = client.get_case(str(case_id))
    except NotFound:
        if Case.objects.filter(id=case_id, gone_at__isnull=True).update(gone_at=timezone.now()):
            cases_changed_on_commit(case_ids=[case_id], origin=SYNC)
        return None
    case = case_upsert(remote=remote)
    if children:
        case_children_refresh(case=case, client=client)
    return Case.objects.get(id=case.id)


# A case's children, each one request: what case_children_refresh fetches, in this order.
# "payments" is the payments app's part (cases.children), fetched and stored through it.
CHILD_PARTS = ("timeline", "chats", "payments", "files", "exclusivity", "validation")


def _children_fetch(client: DebituraClient, case_id: str, parts: Sequence[str]) -> dict[str, Any]:
    fetch: dict[str, Callable[[str], Any]] = {
        "timeline": client.get_timeline,
        "chats": client.list_chats,
        "files": client.list_files,
        "exclusivity": client.get_exclusive_period,
        "validation": client.get_case_validation,
    }
    for other in child_parts():
        fetch[other.name] = functools.partial(other.fetch, client)
    return {part: fetch[part](case_id) for part in CHILD_PARTS if part in parts and part in fetch}


def _children_write(case: Case, fetched: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Replace the fetched children of a case (call inside a transaction); returns the case
    columns they decide, for the caller's update of the case row."""
    _refuse_to_move(case, fetched.get("chats", ()), fetched.get("files", ()))
    columns: dict[str, Any] = {}
    if "timeline" in fetched:
        timeline = fetched["timeline"]
        TimelineItem.objects.filter(case=case).delete()
        TimelineItem.objects.bulk_create(
            TimelineItem(
                case=case,
                position=position,
                date=item.date,
                type=_s(item.type),
                title=_s(item.title)[:500],
                description=_s(item.description),
                actor_type=_s(item.actor.type if item.actor else None),
                actor_name=_s(item.actor.name if item.actor else None),
            )
            for position, item in enumerate(timeline.items)
        )
        if timeline.current_engagement_phase:  # Debitura names it on Active cases only
            columns["engagement_phase"] = timeline.current_engagement_phase
    if "chats" in fetched:
        chats = fetched["chats"]
        ChatMessage.objects.filter(case=case).exclude(id__in=[chat.id for chat in chats]).delete()
        for chat in chats:
            chat_store(case=case, remote=chat)
        case_unread_recount(case_id=case.id)
    if "files" in fetched:
        files = fetched["files"]
        CaseFile.objects.filter(case=case).exclude(id__in=[f.id for f in files]).delete()
        for remote_file in files:
            CaseFile.objects.update_or_create(
                id=remote_file.id,
                defaults={
                    "case": case,
                    "file_name": _s(remote_file.file_name)[:300],
                    "url": _s(remote_file.url),
                    "url_fetched_at": now,
                    "description": _s(remote_file.description)[:500],
                    "document_type": _s(remote_file.document_type),
                    "entity_type": _s(remote_file.entity_type),
                    "date_created": remote_file.date_created,
                },
            )
    if "exclusivity" in fetched:
        exclusivity = fetched["exclusivity"]
        ExclusivityExtension.objects.filter(case=case).delete()
        if exclusivity is not None:
            ExclusivityExtension.objects.bulk_create(
                ExclusivityExtension(
                    case=case,
                    position=position,
                    type=_s(ext.type),
                    event_date=ext.event_date,
                    new_end_date=ext.new_end_date,
                )
                for position, ext in enumerate(exclusivity.extensions)
            )
        columns.update(
            exclusivity_start=exclusivity.engagement_start_date if exclusivity else None,
            exclusivity_status=_s(exclusivity.status) if exclusivity else "",
        )
        if exclusivity is not None and exclusivity.current_end_date is not None:
            columns["exclusive_period_end"] = exclusivity.current_end_date
    if "validation" in fetched:
        validation = fetched["validation"]
        ValidationItem.objects.filter(case=case).delete()
        ValidationItem.objects.bulk_create(
            ValidationItem(
                case=case, resolution_area=_s(item.resolution_area), description=_s(item.description)
            )
            for item in validation.items
        )
        columns["creditor_responded_at"] = validation.creditor_responded_at
    for other in child_parts():
        if other.name in fetched:
            other.store(case, fetched[other.name], now)
    cases_changed_on_commit(case_ids=[case.id], origin=SYNC)
    return columns


def chat_store(*, case: Case, remote: types.Chat) -> None:
    """Write one chat message as Debitura sent it (the caller has checked no other case holds its id)."""
    user = remote.user
    ChatMessage.objects.update_or_create(
        id=remote.id,
        defaults={
            "case": case,
            "date_created": remote.date_created,
            "role": int(remote.role or 0),
            "role_label": _s(remote.role_label),
            "message": _s(remote.message),
            "is_seen": remote.is_seen,
            "author_email": _s(user.email if user else None),
            "author_name": " ".join(filter(None, [user.first_name, user.last_name])) if user else "",
        },
    )


def case_children_refresh(*, case: Case, client: DebituraClient | None = None) -> None:
    """Replace a case's timeline, chat, payments, files, exclusivity chain and validation items."""
    client = client or get_client()
    fetched = _children_fetch(client, str(case.id), CHILD_PARTS)
    now = timezone.now()
    with transaction.atomic():
        columns = _children_write(case, fetched, now)
        Case.objects.filter(id=case.id).update(
            children_synced_at=now,
            children_stale=False,
            children_error="",
            children_failures=0,
            children_retry_at=None,
            children_priority=ChildPriority.OPEN
            if case.lifecycle in OPEN_LIFECYCLES
            else ChildPriority.CLOSED,
            **columns,
        )


def case_children_store(*, case_id: str, fetched: dict[str, Any]) -> None:
    """Write some children of a case that were fetched (or put together) elsewhere, as the relay
    does with a listing it read before its send plus Debitura's answer. Call inside a transaction."""
    # Most parts need only the case's id; another app's part may read some of its columns
    # (payments take the case's currency where Debitura leaves it out).
    needed = sorted({name for p in child_parts() if p.name in fetched for name in p.case_fields})
    case = Case.objects.only("id", *needed).get(id=case_id) if needed else Case(id=case_id)
    columns = _children_write(case, fetched, timezone.now())
    if columns:
        Case.objects.filter(id=case.id).update(**columns)


def case_read_back(*, case_id: str, parts: Collection[str], client: DebituraClient) -> None:
    """Re-read what an agent's action changed: the case itself ("case") and/or some of its
    children (CHILD_PARTS). With every part it is case_refresh; a partial read leaves the case's
    place in the children queue as it is (the rest may be stale)."""
    if {"case", *CHILD_PARTS} <= set(parts):
        case_refresh(case_id=case_id, client=client)
        return
    if "case" in parts:
        try:
            cases_upsert_page(remotes=[client.get_case(case_id)])
        except NotFound:
            if Case.objects.filter(id=case_id, gone_at__isnull=True).update(gone_at=timezone.now()):
                cases_changed_on_commit(case_ids=[case_id], origin=SYNC)
            return
    children = [part for part in CHILD_PARTS if part in parts]
    if children:
        fetched = _children_fetch(client, case_id, children)
        with transaction.atomic():
            case_children_store(case_id=case_id, fetched=fetched)


class ChildrenConflict(Exception):
    """Debitura lists a child of this case that the local copy holds on another case.

    Ids have repeated across cases (an emulator restarted with the same seed); a chat message or
    a file is never moved from one case to another on the strength of its id alone.
    """


def _refuse_to_move(case: Case, chats: Sequence[types.Chat], files: Sequence[types.CaseFile]) -> None:
    for model, label, ids in (
        (ChatMessage, "chat message", [chat.id for chat in chats]),
        (CaseFile, "file", [f.id for f in files]),
    ):
        elsewhere = (
            model.objects.filter(id__in=ids).exclude(case_id=case.id).values_list("id", "case__reference")
        )
        for child_id, reference in elsewhere[:1]:
            raise ChildrenConflict(
                f"Debitura lists {label} {child_id} on this case, but it belongs to case {reference} here; "
                "it was not moved."
            )
