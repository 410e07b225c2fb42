"""What the header badge shows: the sync runs' state and how far the children of every case
have been fetched (measured by the children queue, read by the pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from cases.models import ChildrenProgress, SyncRun

# Pages read the progress at most every 15 s.
CHILDREN_PROGRESS_CACHE_SECONDS = 15


def children_progress() -> ChildrenProgress:
    """How far the children of every case have been fetched, as the children queue last measured
    it (one row, kept 15 s in Django's cache); nothing to say before it first measured."""
    cached = cache.get("cases:children-progress")
    if isinstance(cached, ChildrenProgress):
        return cached
    progress = ChildrenProgress.objects.filter(id=1).first() or ChildrenProgress(id=1)
    cache.set("cases:children-progress", progress, CHILDREN_PROGRESS_CACHE_SECONDS)
    return progress


def sync_status() -> dict[str, Any]:
    """What the header badge shows: the last successful sync, a running one, the last failure,
    and how far the first fetch of every case's children is."""
    latest = SyncRun.objects.order_by("-started_at").first()
    last_ok = SyncRun.objects.filter(finished_at__isnull=False, error="").order_by("-started_at").first()
    running = (
        latest is not None
        and latest.finished_at is None
        and latest.started_at > timezone.now() - timedelta(minutes=15)
    )
    failing_since = None
    if latest is not None and latest.error:
        first_failure = (
            SyncRun.objects.exclude(error="")
            .filter(started_at__gt=last_ok.started_at if last_ok else datetime.min.replace(tzinfo=UTC))
            .order_by("started_at")
            .first()
        )
        failing_since = first_failure.started_at if first_failure else latest.started_at
    return {
        "last_ok": last_ok,
        "running": running,
        "failing_since": failing_since,
        "error": latest.error if latest is not None and latest.error else "",
        "progress": children_progress(),
    }
