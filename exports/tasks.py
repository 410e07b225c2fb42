"""Celery tasks for exports: thin wrappers that call one service (exports.archives, exports.jobs)."""

from __future__ import annotations

from celery import shared_task

from exports.archives import BUILD_TASK, documents_archive_build
from exports.jobs import WORKBOOK_TASK, export_jobs_expire, workbook_job_build

# An archive of thousands of cases takes as long as the rate limit's share allows: hours at most.
ARCHIVE_TIME_LIMIT = 6 * 3600


@shared_task(
    name=BUILD_TASK,
    ignore_result=True,
    time_limit=ARCHIVE_TIME_LIMIT,
    soft_time_limit=ARCHIVE_TIME_LIMIT - 60,
)
def documents_archive_build_task(archive_id: int) -> None:
    """Build one documents archive (queued on commit by documents_archive_create)."""
    documents_archive_build(archive_id=archive_id)


@shared_task(
    name=WORKBOOK_TASK,
    ignore_result=True,
    time_limit=ARCHIVE_TIME_LIMIT,
    soft_time_limit=ARCHIVE_TIME_LIMIT - 60,
)
def workbook_job_build_task(job_id: int) -> None:
    """Write one large workbook (queued on commit by workbook_job_create)."""
    workbook_job_build(job_id=job_id)


@shared_task(name="exports.export_jobs_expire", ignore_result=True)
def export_jobs_expire_task() -> None:
    """Delete the files of jobs past EXPORT_ARCHIVE_HOURS (beat: hourly)."""
    export_jobs_expire()
