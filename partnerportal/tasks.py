"""Project-wide Celery tasks."""

from celery import shared_task
from django.utils import timezone


@shared_task(name="partnerportal.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Prove a worker is alive: returns the worker's clock, used by health checks and tests."""
    return timezone.now().isoformat()
