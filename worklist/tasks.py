"""Celery tasks of the work list: thin wrappers around worklist.services (beat schedule in settings)."""

from __future__ import annotations

from celery import shared_task

from worklist.digest import digests_send
from worklist.services import tasks_rebuild, tasks_refresh, tasks_show_due


@shared_task(name="worklist.refresh", ignore_result=True)
def refresh(case_ids: list[str]) -> None:
    """Refresh the tasks of cases the sync changed (queued by worklist.receivers)."""
    tasks_refresh(case_ids=case_ids)


@shared_task(name="worklist.rebuild", ignore_result=True)
def rebuild() -> None:
    """Refresh every case's tasks in batches (beat: nightly, after the full sync)."""
    tasks_rebuild()


@shared_task(name="worklist.show_due", ignore_result=True)
def show_due() -> None:
    """Show the tasks whose time has come (beat: every minute)."""
    tasks_show_due()


@shared_task(name="worklist.digest", ignore_result=True)
def digest() -> None:
    """Send the morning digests (beat: daily at DIGEST_HOUR; a second run the same day sends none)."""
    digests_send()
