"""Settings for the test suite: the production settings with test-only relaxations.

Everything else (DATABASE_URL, CELERY_BROKER_URL) still comes from the environment, so CI runs
the same suite against PostgreSQL and Redis.
"""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("DEBITURA_API_KEY", "test-api-key")
# Tests keep their broker folders, results and files apart from the demo's var/. Worker
# processes started by tests inherit this variable, so they find the same folders.
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from partnerportal.settings import *  # noqa: F403
from partnerportal.settings import STORAGES

# Hashing passwords slowly is the point in production and pure waste in tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Sign-in throttling would count every failed sign-in of the suite; its own tests switch it on.
AXES_ENABLED = False
# Serve static files from the finders: no collectstatic before the tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Worker processes started by integration tests must see the test database: on SQLite that
# means a file, not pytest-django's default in-memory database.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # One test database per test process: two suites on one server must not drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # One file per test process, so two suites running side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}  # noqa: F405
