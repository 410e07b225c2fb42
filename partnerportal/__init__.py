"""The Partner Portal Django project."""

from partnerportal.celery import app as celery_app

__all__ = ["celery_app"]
