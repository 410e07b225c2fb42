"""Celery tasks for exports: thin wrappers that call one service (exports.archives)."""

from __future__ import annotations

from celery import shared_task

from exports.archives import BUILD_TASK, documents_archive_build, documents_archives_expire

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


@shared_task(name="exports.documents_archives_expire", ignore_result=True)
def documents_archives_expire_task() -> None:
    """Delete archives past EXPORT_ARCHIVE_HOURS (beat: hourly)."""
    documents_archives_expire()
