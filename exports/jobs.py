"""What every export job shares (a documents ZIP, a large XLSX): where its file lives, finishing
it, its estimate, its expiry; and the workbook job itself.

A workbook of many cases takes longer to write than a web request may last (about 40 s for
100,000 cases, and nothing can be sent before XLSX's last byte is written), so above
EXPORT_XLSX_DIRECT_MAX cases it is written by a worker, with the same job page as an archive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from debitura.throttle import DEBITURA_WINDOWS
from exports.cases import cases_export_queryset, cases_xlsx_write
from exports.columns import columns_chosen
from exports.models import ExportJob

WORKBOOK_TASK = "exports.workbook_build"
# An archive's first estimate: one listing per case, within this share of the key's rate limit.
ARCHIVE_SHARE = 0.25
# Rows written between two progress updates of a workbook job.
WORKBOOK_PROGRESS_ROWS = 2000


def export_directory() -> Path:
    """EXPORT_ARCHIVE_DIR, made if missing: every job's file is here."""
    path = Path(settings.EXPORT_ARCHIVE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_job_finish(*, job: ExportJob, path: Path) -> ExportJob:
    """Mark the job ready with its file, kept for EXPORT_ARCHIVE_HOURS from now."""
    finished = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.READY, finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_ARCHIVE_HOURS),
        file_path=path.name, file_size=path.stat().st_size,
    )  # fmt: skip
    job.refresh_from_db()
    return job


def export_job_fail(*, job: ExportJob, error: str) -> ExportJob:
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.FAILED, finished_at=timezone.now(), error=error[:2000]
    )
    job.refresh_from_db()
    return job


def export_job_path(*, job: ExportJob) -> Path | None:
    """The ready job's file, or None (not ready, expired, or gone from disk)."""
    if job.state != ExportJob.State.READY or not job.file_path:
        return None
    if job.expires_at is not None and job.expires_at <= timezone.now():
        return None
    path = export_directory() / PurePath(job.file_path).name  # never a path from elsewhere
    return path if path.is_file() else None


def export_jobs_expire(*, now: datetime | None = None) -> int:
    """Delete the files of jobs past their expiry and mark them expired; how many."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(state=ExportJob.State.READY, expires_at__lte=now):
        if job.file_path:
            (export_directory() / PurePath(job.file_path).name).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.EXPIRED)
        expired += 1
    return expired


@dataclass(frozen=True)
class Estimate:
    """How far a build is and how long the rest should take, for the job page."""

    percent: int
    seconds_left: float | None

    @property
    def minutes_left(self) -> int | None:
        """Whole minutes, rounded half up, and never "about 0 minutes" until it is done."""
        return None if self.seconds_left is None else max(1, math.floor(self.seconds_left / 60 + 0.5))


def export_job_estimate(*, job: ExportJob, now: datetime | None = None) -> Estimate:
    """Progress in percent and the time left: from the pace so far once something is done;
    before that, for an archive, from the rate limit's share (one listing per case, at least)."""
    now = now or timezone.now()
    total, done = job.cases_total, job.cases_done
    if job.state == ExportJob.State.READY:
        return Estimate(100, 0)
    if not total:
        return Estimate(0, None)
    percent = min(99, done * 100 // total)
    left = total - done
    if done and job.started_at:
        pace = (now - job.started_at).total_seconds() / done
        return Estimate(percent, pace * left)
    if job.is_workbook:
        return Estimate(percent, None)
    per_minute = DEBITURA_WINDOWS[0].limit * ARCHIVE_SHARE
    return Estimate(percent, left / per_minute * 60)


# --- Large workbooks ------------------------------------------------------------------------------


def workbook_job_create(*, user: Any, query: str, columns: list[str], described: str = "") -> ExportJob:
    """Record a workbook of the list filter `query` to write in the background; queued on commit."""
    label = f"Cases as XLSX: {described}" if described else "Cases as XLSX"
    job = ExportJob.objects.create(
        user=user, kind=ExportJob.Kind.WORKBOOK, query=query[:2000], columns=columns, label=label[:300]
    )
    transaction.on_commit(lambda: signature(WORKBOOK_TASK, args=(job.pk,)).delay())
    return job


def workbook_job_build(*, job_id: int) -> ExportJob:
    """Write the job's workbook (the list's cases, the job's columns) under EXPORT_ARCHIVE_DIR."""
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if job.state not in (ExportJob.State.QUEUED, ExportJob.State.RUNNING):
        return job  # done already: a redelivered task does nothing
    cases = cases_export_queryset(query=job.query, user=job.user)
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now(), cases_total=cases.order_by().count(),
        cases_done=0,
    )  # fmt: skip

    def progress(rows: int) -> None:
        if rows % WORKBOOK_PROGRESS_ROWS == 0:
            ExportJob.objects.filter(pk=job.pk).update(cases_done=rows)

    final = export_directory() / f"cases-{job.pk}.xlsx"
    partial = final.with_suffix(".xlsx.part")
    try:
        with partial.open("wb") as file:
            written = cases_xlsx_write(
                cases=cases, columns=columns_chosen(job.columns), file=file, progress=progress
            )
        partial.replace(final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        return export_job_fail(job=job, error=str(exc))
    ExportJob.objects.filter(pk=job.pk).update(cases_done=written, cases_total=written)
    return export_job_finish(job=job, path=final)
