"""Settings for the Celery workers the outbox chaos test starts: the test settings, plus a fast
lease, backoff and sweep, the test database, and a queue of the test's own."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["OUTBOX_TEST_DB_NAME"]
# Short: a live send keeps its row by its heartbeat (a beat a second), a killed worker's rows come
# back after four seconds without one.
OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "4"))
OUTBOX_BACKOFF_BASE_SECONDS = 0.5
OUTBOX_BACKOFF_CAP_SECONDS = 4.0
OUTBOX_SWEEP_GRACE_SECONDS = 3
CELERY_TASK_DEFAULT_QUEUE = os.environ["OUTBOX_TEST_QUEUE"]
CELERY_BEAT_SCHEDULE = {"sweep-outbox": {"task": "cases.sweep_outbox", "schedule": 2.0}}
