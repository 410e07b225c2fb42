"""Pulling the cases the agency submitted (GET /managed-cases) and their children.

GET /managed-cases has no modified-since filter, so a run walks the pages newest change first
(Sort=DateUpdated:desc) and stops at the first page that reaches back past the last complete
run's high-water mark (less an overlap, for stamps written out of order): with nothing changed it
costs one request. A case whose JSON changed is marked for its children (timeline, chat,
payments, files), which the same run reads for a bounded number of cases, most recently changed
first; the rest follow in the next runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from debitura import types
from debitura.client import DebituraClient, get_client
from debitura.errors import DebituraError, TransientError
from managed.models import ManagedCase, ManagedSyncRun
from managed.rows import children_as_json, managed_row_fill

log = logging.getLogger(__name__)

PAGE_SIZE = 100
OVERLAP = timedelta(minutes=2)
# Cases whose children one run reads (four requests each).
CHILDREN_PER_RUN = 50
NEWEST_FIRST = types.CaseFilters(sort="DateUpdated:desc")


def _last_complete_mark() -> datetime | None:
    """Where the last whole walk ended; a walk that stopped part-way proves nothing older."""
    return (
        ManagedSyncRun.objects.filter(finished_at__isnull=False, error="", high_water_mark__isnull=False)
        .order_by("-started_at")
        .values_list("high_water_mark", flat=True)
        .first()
    )


def _case_store(case: types.Case, now: datetime) -> str:
    """Write one case; "created", "updated" or "unchanged"."""
    row = ManagedCase.objects.filter(remote_id=case.id).first()
    created = row is None
    if row is None:
        row = ManagedCase(currency=(case.currency or "").upper(), gross_amount=case.gross_amount)
    if not managed_row_fill(row=row, case=case, now=now):
        return "unchanged"
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Written meanwhile by the submission's answer (or another run): that row is the case.
        return "unchanged"
    return "created" if created else "updated"


def managed_cases_sync(
    *, client: DebituraClient | None = None, page_size: int = PAGE_SIZE, children: int = CHILDREN_PER_RUN
) -> ManagedSyncRun:
    """Pull what changed in the submitted cases since the last complete run, then their children."""
    client = client or get_client()
    mark = _last_complete_mark()
    stop_before = mark - OVERLAP if mark else None
    run = ManagedSyncRun.objects.create(high_water_mark=mark)
    try:
        page = 1
        while True:
            listing = client.list_managed_cases(NEWEST_FIRST, page=page, page_size=page_size)
            run.pages += 1
            now = timezone.now()
            for case in listing.cases:
                outcome = _case_store(case, now)
                setattr(run, outcome, getattr(run, outcome) + 1)
            stamps = [c.date_updated or c.date_created for c in listing.cases]
            oldest = min((s for s in stamps if s is not None), default=None)
            reached_mark = stop_before is not None and oldest is not None and oldest < stop_before
            if reached_mark or not listing.page.has_next or not listing.cases:
                break
            page += 1
        run.high_water_mark = ManagedCase.objects.aggregate(mark=Max("remote_updated_at"))["mark"]
        run.children = managed_children_refresh(client=client, limit=children)
    except DebituraError as exc:
        log.warning("managed-case sync stopped: %s", exc)
        run.error = str(exc)
    run.finished_at = timezone.now()
    run.save()
    log.info(
        "managed-case sync: %d pages, %d created, %d updated, %d unchanged, %d children",
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
        run.children,
    )
    return run


def managed_children_refresh(*, client: DebituraClient, limit: int = CHILDREN_PER_RUN) -> int:
    """Read timeline, chat, payments and files of up to `limit` changed cases; how many were read.

    A case Debitura refuses keeps its error and is not asked again until it changes; a transient
    failure stops the pass (the cases stay due)."""
    due = list(
        ManagedCase.objects.filter(remote_id__isnull=False, children_due=True)
        .order_by("-remote_updated_at")
        .values_list("pk", "remote_id")[:limit]
    )
    read = 0
    for pk, remote_id in due:
        case_id = str(remote_id)
        try:
            timeline = client.get_managed_timeline(case_id)
            chats = client.list_managed_chats(case_id)
            payments = client.list_managed_payments(case_id)
            files = client.list_managed_files(case_id)
        except TransientError:
            raise
        except DebituraError as exc:
            ManagedCase.objects.filter(pk=pk).update(children_due=False, children_error=str(exc))
            continue
        ManagedCase.objects.filter(pk=pk).update(
            timeline=children_as_json(timeline.items),
            chats=children_as_json(chats),
            payments=children_as_json(payments),
            files=children_as_json(files),
            children_due=False,
            children_error="",
            children_synced_at=timezone.now(),
        )
        read += 1
    return read
