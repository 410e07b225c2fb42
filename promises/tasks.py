"""Beat tasks that keep the promises' kept/broken state current: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from promises.evaluation import promises_evaluate_all


@shared_task(name="promises.evaluate_daily")
def evaluate_daily() -> int:
    """Time passing: an instalment whose grace ended yesterday is broken today."""
    return promises_evaluate_all()


@shared_task(name="promises.evaluate_synced")
def evaluate_synced() -> int:
    """Debitura's payments written by a children refresh (in bulk, without signals)."""
    return promises_evaluate_all(stale_since_sync=True)
