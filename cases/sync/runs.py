"""Sync runs: the incremental walk (newest first, down to the last complete mark) and the full
reconcile (every partner-facing status; what is no longer visible is marked gone)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from cases.changes import SYNC, cases_changed_on_commit
from cases.models import Case, SyncRun
from cases.sync.pages import PAGES_LEAST, PageResult, _Assignees, _batches_write, _Page, _page_batches
from debitura import types
from debitura.client import DebituraClient, get_client
from debitura.enums import Lifecycle
from debitura.errors import DebituraError

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# Statuses a partner can see; a full reconcile walks each so nothing hides behind a default.
PARTNER_STATUSES = (
    Lifecycle.PENDING_VERIFICATION,
    Lifecycle.NEEDS_ADDITIONAL_DETAILS,
    Lifecycle.LEADS,
    Lifecycle.LEADS_QUOTE_GIVEN,
    Lifecycle.ACTIVE,
    Lifecycle.PAUSED,
    Lifecycle.CLOSED,
    Lifecycle.MERGED,
)

INCREMENTAL_OVERLAP = timedelta(minutes=2)
# Test cases are included so agencies can rehearse in the portal; the list hides them by default.
NEWEST_FIRST = types.CaseFilters(sort="DateUpdated:desc", include_test_cases=True)


def _high_water_mark() -> datetime | None:
    return Case.objects.aggregate(mark=Max("remote_updated_at"))["mark"]


def _last_complete_mark() -> datetime | None:
    """Where the last whole walk ended. A walk that stopped part-way (Debitura failing, a killed
    worker) stored its newest pages but not the older ones, so the newest stamp held locally
    would make the next walk stop before them; it goes back to the last complete walk instead."""
    complete = (
        SyncRun.objects.filter(
            kind__in=[SyncRun.Kind.INCREMENTAL, SyncRun.Kind.FULL],
            finished_at__isnull=False,
            error="",
            high_water_mark__isnull=False,
        )
        .order_by("-started_at")
        .values_list("high_water_mark", flat=True)
        .first()
    )
    return complete


def _run_finish(run: SyncRun, error: BaseException | None = None) -> SyncRun:
    run.finished_at = timezone.now()
    if error is not None:
        run.error = str(error) if isinstance(error, DebituraError) else f"{type(error).__name__}: {error}"
    run.save()
    return run


def _tally(run: SyncRun, result: PageResult, pages: int = 1) -> None:
    run.pages += pages
    run.requests += pages
    run.created += len(result.created)
    run.updated += len(result.updated)
    run.unchanged += len(result.unchanged)


def cases_sync_incremental(*, client: DebituraClient | None = None, page_size: int = PAGE_SIZE) -> SyncRun:
    """Pull what changed since the newest stamp we hold (everything on the first run).

    Pages come newest first (DateUpdated:desc); the walk stops at the first page that reaches
    back past the high-water mark less an overlap, so with nothing changed it costs one request.
    """
    client = client or get_client()
    mark = _last_complete_mark()
    stop_before = mark - INCREMENTAL_OVERLAP if mark else None

    def newer_than_mark(page: _Page) -> bool:
        oldest = page.last_updated
        return stop_before is None or oldest is None or oldest >= stop_before

    run = SyncRun.objects.create(kind=SyncRun.Kind.INCREMENTAL, high_water_mark=mark)
    assignees = _Assignees()
    try:
        batches = _page_batches(client, NEWEST_FIRST, page_size, newer_than_mark, PAGES_LEAST)
        for pages, result in _batches_write(batches=batches, assignees=assignees):
            _tally(run, result, pages)
        run.high_water_mark = _high_water_mark()
    except DebituraError as exc:
        log.warning("incremental sync stopped: %s", exc)
        return _run_finish(run, exc)
    log.info(
        "incremental sync: %d pages, %d created, %d updated, %d unchanged",
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
    )
    return _run_finish(run)


def cases_sync_full(*, client: DebituraClient | None = None, page_size: int = PAGE_SIZE) -> SyncRun:
    """Walk every partner-facing status; cases no longer visible are marked gone (kept)."""
    client = client or get_client()
    run = SyncRun.objects.create(kind=SyncRun.Kind.FULL, high_water_mark=_high_water_mark())
    assignees = _Assignees()
    try:
        for status in PARTNER_STATUSES:
            filters = types.CaseFilters(statuses=[status], sort="DateCreated:asc", include_test_cases=True)
            batches = _page_batches(client, filters, page_size, least=PAGES_LEAST)
            for pages, result in _batches_write(batches=batches, assignees=assignees, now=run.started_at):
                _tally(run, result, pages)
    except DebituraError as exc:
        # A partial walk proves nothing about what is gone: mark nothing.
        log.warning("full sync stopped: %s", exc)
        return _run_finish(run, exc)
    # Every case the walk saw was stamped synced_at = run start; the rest are no longer visible.
    gone = Case.objects.filter(gone_at__isnull=True, synced_at__lt=run.started_at)
    gone_ids = list(gone.values_list("id", flat=True))  # few: cases Debitura stopped showing
    run.gone = Case.objects.filter(id__in=gone_ids).update(gone_at=timezone.now())
    cases_changed_on_commit(case_ids=gone_ids, origin=SYNC)
    run.high_water_mark = _high_water_mark()
    log.info(
        "full sync: %d pages, %d created, %d updated (drift), %d unchanged, %d gone",
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
        run.gone,
    )
    return _run_finish(run)
