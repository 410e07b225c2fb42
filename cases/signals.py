"""Start-up hooks: a worker that comes up syncs at once instead of waiting for beat's first tick."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready
from django.conf import settings

from cases.tasks import ensure_webhook_subscription, sync_incremental, sync_team


@worker_ready.connect(dispatch_uid="cases.sync_on_worker_start")
def sync_on_worker_start(sender: Any = None, **kwargs: Any) -> None:
    sync_team.delay()
    sync_incremental.delay()
    if settings.DEBITURA_WEBHOOK_URL:
        ensure_webhook_subscription.delay()
