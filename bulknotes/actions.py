"""Posting one progress note to several cases: which of the ticked cases get it, and the write.

The write is one transaction: the BulkNote, a BulkNoteCase per case, and ONE outbox row (kind
bulk_note, on the first case: every outbox row belongs to a case) that the relay sends as one
`POST /ingestion-jobs` with the row's Idempotency-Key (bulknotes.handlers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bulknotes.models import BulkNote, BulkNoteCase
from cases.actions import OPEN_STATES, ActionInvalid, action_key, case_action_write, case_effective_lifecycle
from cases.models import Case, LifecycleChoices
from outbox.models import OutboxAction

L = LifecycleChoices
Kind = OutboxAction.Kind
# A progress note is a paragraph or two; Debitura takes up to 10,000 characters per note, but a
# text sent to many creditors at once is kept to what one reads at a glance.
TEXT_MAX = 2000
# As many cases as the reassign bar takes; Debitura recommends at most 1,000 rows per job.
CASES_MAX = 500
_LIFECYCLE_KINDS = (Kind.ACCEPT, Kind.DECLINE, Kind.CLOSE)


@dataclass(frozen=True)
class Skipped:
    """A ticked case that will not get the note, and why."""

    case: Case
    reason: str


@dataclass(frozen=True)
class Targets:
    """The ticked cases split into those that get the note (Active) and those skipped."""

    cases: list[Case]
    skipped: list[Skipped]


def bulk_note_targets(*, case_ids: Iterable[str]) -> Targets:
    """Which of the ticked cases are Active (with their open accepts and closes counted in) and
    get the note; the others with the reason. Three queries whatever the number of cases."""
    wanted = list(dict.fromkeys(str(case_id) for case_id in case_ids))[:CASES_MAX]
    cases = list(Case.objects.filter(pk__in=wanted).order_by("reference"))
    by_case = _lifecycle_actions(cases)
    chosen: list[Case] = []
    skipped: list[Skipped] = []
    for case in cases:
        if case.gone_at is not None:
            skipped.append(Skipped(case, "No longer assigned to the agency at Debitura."))
            continue
        lifecycle = case_effective_lifecycle(case=case, actions=by_case.get(case.pk, []))
        if lifecycle == L.ACTIVE:
            chosen.append(case)
        else:
            label = L(lifecycle).label if lifecycle in L.values else lifecycle
            pending = "" if lifecycle == case.lifecycle else " once the portal's pending action is through"
            skipped.append(Skipped(case, f"Not Active: the case is {label}{pending}."))
    return Targets(chosen, skipped)


def _lifecycle_actions(cases: Sequence[Case]) -> dict[Any, list[OutboxAction]]:
    """Each case's open accept/decline/close rows and those done since its last sync (what
    case_effective_lifecycle counts), in one query."""
    if not cases:
        return {}
    oldest = min(case.synced_at for case in cases)
    rows = OutboxAction.objects.filter(
        Q(state__in=OPEN_STATES) | Q(state=OutboxAction.State.DONE, done_at__gte=oldest),
        case__in=cases,
        kind__in=_LIFECYCLE_KINDS,
    ).only("case_id", "kind", "state", "created_at", "done_at")
    by_case: dict[Any, list[OutboxAction]] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row)
    return by_case


def bulk_note_check(*, text: str, event_date: date | None, today: date | None = None) -> str:
    """The note's text as it will be sent; raises ActionInvalid naming the field that is wrong."""
    text = text.strip()
    errors = {}
    if not text:
        errors["text"] = "Write the note."
    elif len(text) > TEXT_MAX:
        errors["text"] = f"Keep the note to {TEXT_MAX} characters (it has {len(text)})."
    if event_date is not None and event_date > (today or timezone.localdate()):
        errors["event_date"] = "Cannot be in the future."
    if errors:
        raise ActionInvalid(errors)
    return text


def event_moment(event_date: date | None, *, today: date | None = None) -> datetime | None:
    """The eventDate sent for a date: none for today (Debitura dates the note when it adds it),
    the start of an earlier day in the portal's time zone otherwise."""
    if event_date is None or event_date >= (today or timezone.localdate()):
        return None
    return timezone.make_aware(datetime.combine(event_date, time.min))


def bulk_note_post(
    *,
    actor: Any,
    case_ids: Iterable[str],
    text: str,
    event_date: date | None = None,
    token: str | None = None,
) -> BulkNote:
    """Post `text` to every ticked case that is Active: the bulk note, its cases and one outbox
    row in one transaction, relayed on commit. The same `token` again returns the first one."""
    text = bulk_note_check(text=text, event_date=event_date)
    key = action_key(token)
    known = BulkNote.objects.filter(action__idempotency_key=key).first()
    if known is not None:
        return _same_submit(known, actor)
    moment = event_moment(event_date)
    with transaction.atomic():
        ids = list(dict.fromkeys(str(case_id) for case_id in case_ids))[:CASES_MAX]
        # Every case locked (in one order, so two bulk notes never wait on each other in a
        # circle): an accept, close or note on one of them waits until this is written.
        list(Case.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        targets = bulk_note_targets(case_ids=ids)
        if not targets.cases:
            raise ActionInvalid({"__all__": "None of the ticked cases is Active: nothing to post."})
        now = timezone.now()
        bulk = BulkNote.objects.create(
            author=actor,
            text=text,
            event_date=event_date,
            created_at=now,
            updated_at=now,
            rows_total=len(targets.cases),
        )
        BulkNoteCase.objects.bulk_create(
            [BulkNoteCase(bulk_note=bulk, case=case, updated_at=now) for case in targets.cases]
        )
        payload = {
            "bulk_note": bulk.pk,
            "description": text,
            "event_date": moment.isoformat() if moment else None,
            # In the order sent: the job's body must be the same on every attempt, or the
            # Idempotency-Key would be refused as reused with another body.
            "case_ids": [str(case.pk) for case in targets.cases],
        }
        action = case_action_write(
            case=targets.cases[0],
            actor=actor,
            kind=Kind.BULK_NOTE,
            payload=payload,
            token=key,
            allowed=frozenset({L.ACTIVE}),
            now=now,
        )
        bulk.action = action
        bulk.save(update_fields=["action"])
    return bulk


def _same_submit(bulk: BulkNote, actor: Any) -> BulkNote:
    if bulk.author_id != getattr(actor, "pk", None):
        raise ActionInvalid({"token": "This form was already used for another action; reload the page."})
    return bulk
