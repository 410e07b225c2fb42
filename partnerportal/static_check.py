"""Start-up check of the web server: the static files are collected for the code about to serve them.

With DEBUG off every page names its CSS and scripts through the manifest that `collectstatic`
writes; a file missing from it makes the page fail. So the server refuses to start instead, and
says what to run (a fresh install, or an upgrade that brought new files).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import ImproperlyConfigured


def static_files_uncollected() -> list[str]:
    """The static files the code has and the manifest lacks (all of them before the first collectstatic)."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []  # served as they are (DEBUG): nothing to collect
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    present = {path for finder in finders.get_finders() for path, _ in finder.list(ignore)}
    return sorted(present - set(staticfiles_storage.hashed_files))


def static_files_check() -> None:
    """Raise ImproperlyConfigured, saying what to run, when static files are not collected."""
    missing = static_files_uncollected()
    if missing:
        raise ImproperlyConfigured(
            f"{len(missing)} static files are not collected in {settings.STATIC_ROOT} "
            f"({', '.join(missing[:3])}...): run `python manage.py collectstatic --no-input` with the "
            "same settings (after every upgrade too), then start the web server again."
        )
