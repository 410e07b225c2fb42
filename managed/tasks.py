"""Celery tasks of the submitted cases: thin wrappers around the sync."""

from __future__ import annotations

from celery import shared_task

from managed.sync import managed_cases_sync


@shared_task(name="managed.sync", ignore_result=True)
def sync_managed() -> None:
    """Pull what changed in the cases the agency submitted (beat: every MANAGED_SYNC_INTERVAL_SECONDS)."""
    managed_cases_sync()
