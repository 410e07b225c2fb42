"""Celery tasks for the dashboard: thin wrappers that call one service.

DashboardConfig.ready() imports this module so every process knows the task by name.
"""

from __future__ import annotations

from celery import shared_task

from dashboard.summaries import dashboard_summaries_refresh


@shared_task(name="dashboard.refresh_summaries", ignore_result=True)
def refresh_summaries() -> None:
    """Rebuild the dashboard's summary rows (beat: every DASHBOARD_REFRESH_SECONDS)."""
    dashboard_summaries_refresh()
