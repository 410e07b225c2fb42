"""WSGI entry point (gunicorn: see gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerportal.settings")
application = get_wsgi_application()

# Refuse to start rather than answer every page with a 500 (see partnerportal.static_check).
from partnerportal.static_check import static_files_check  # noqa: E402 (needs the settings)

static_files_check()
