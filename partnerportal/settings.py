"""Django settings, read from the environment (see README and .env.example).

Embedded defaults (SQLite, the file-system Celery broker, the local Debitura emulator) make a
first run need nothing; production sets DEBUG=0 and the variables below.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from partnerportal.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_secret("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "axes",
    "django_htmx",
    "template_partials",
    "partnerportal",
    "accounts",
    "debitura",
    "outbox",
    "cases",
    "payments",
    "documents",
    "promises",
    "bulknotes",
    # After the apps whose models it keeps a history of (history.tracked looks them up as it loads).
    "simple_history",
    "history",
    "golive",
    "managed",
    "exports",
    "worklist",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the address is a 400 before a query can pass it to PostgreSQL (which refuses it).
    "partnerportal.middleware.nul_refusing_middleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TimeZoneMiddleware",
    # Who saved a tracked model (agency settings in Django admin) for django-simple-history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnerportal.urls"
WSGI_APPLICATION = "partnerportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partnerportal.context_processors.portal",
                "cases.context_processors.unread",
                "worklist.context_processors.work",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"), base_dir=BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out user or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.PortalBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic puts them and the web server reads them from; outside a data volume, so a
# new release's files are not hidden by the last one's (the image sets /app/staticfiles).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Each uploaded file is cut off at 25 MB + 1 byte while it is read (documents.checks); this caps
# how many one request may carry (the form allows 10 and says so; more than 20 is a plain 400).
DATA_UPLOAD_MAX_NUMBER_FILES = 20
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Security: safe by default, switches for a TLS-terminating proxy in front. ----------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself; otherwise clients could spoof HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy on every response (django-csp; a view that sets its own, such as the
# file view's "sandbox", keeps it). No inline script or style anywhere, so markup that slipped
# through from API data cannot run; htmx is configured by a <meta> tag (base.html) not to inject
# its indicator <style> and not to eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Pico's form controls draw their icons from data: SVGs in the stylesheet.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The portal uses none of these browser features; a page cannot be made to ask for them.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# How many proxies in front of the portal append the client's address to X-Forwarded-For (0: take
# the connection's address). Sign-in throttling counts failures per user and per that address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- Sign-in throttling (django-axes): failures are counted per username and per address; either
# reaching the limit refuses further sign-ins (even with the right password) for the cool-off,
# which every further failure restarts. Administrators see and delete the attempts in Django admin.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.signin.request_client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no banner on every start of every command; lockouts are still logged

# /healthz is probed over plain HTTP by the container's own healthcheck.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", schemes=("filesystem", "redis", "rediss", "memory")
)
_FS_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
if _FS_BROKER:
    # kombu's transport, writing each message whole before a worker can see it (see the module).
    CELERY_BROKER_TRANSPORT = "partnerportal.broker:Transport"
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # Broadcast (remote control) messages; kombu's default is ./control in the working dir.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        # kombu looks for new messages every second by default; a webhook's re-fetch or an
        # agent's action would wait up to that long before a worker sees it.
        "polling_interval": 0.2,
    }
    _default_results = f"file://{VAR_DIR / 'celery' / 'results'}"
elif CELERY_BROKER_URL.startswith("memory://"):
    _default_results = "cache+memory://"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_results)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540, minimum=1)
# A task is acknowledged after it ran, so a worker killed mid-task hands it to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
SYNC_INTERVAL_SECONDS = env_int("SYNC_INTERVAL_SECONDS", 60, minimum=10)
MANAGED_SYNC_INTERVAL_SECONDS = env_int("MANAGED_SYNC_INTERVAL_SECONDS", SYNC_INTERVAL_SECONDS, minimum=10)
# How often the dashboard's summary rows are rebuilt from the local copy (dashboard.summaries).
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 300, minimum=30)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "partnerportal.tasks.heartbeat", "schedule": 60.0},
    "sync-incremental": {
        "task": "cases.sync_incremental",
        "schedule": float(SYNC_INTERVAL_SECONDS),
        # A run that waited longer than its interval is superseded by the next one.
        "options": {"expires": float(SYNC_INTERVAL_SECONDS)},
    },
    "sync-full-nightly": {"task": "cases.sync_full", "schedule": crontab(hour=2, minute=30)},
    # Cases submitted as managing partner: with nothing changed a run costs one request.
    "sync-managed": {
        "task": "managed.sync",
        "schedule": float(MANAGED_SYNC_INTERVAL_SECONDS),
        "options": {"expires": float(MANAGED_SYNC_INTERVAL_SECONDS)},
    },
    "refresh-children": {
        "task": "cases.refresh_children_batch",
        "schedule": 20.0,
        "options": {"expires": 20.0},
    },
    "sync-team": {"task": "cases.sync_team", "schedule": 3600.0},
    "prune-webhook-events": {"task": "cases.prune_webhook_events", "schedule": crontab(hour=3, minute=15)},
    "sweep-outbox": {"task": "cases.sweep_outbox", "schedule": 10.0, "options": {"expires": 10.0}},
    # Bulk notes' jobs whose due poll never ran (a worker restarted) are polled again.
    "bulknotes-sweep": {"task": "bulknotes.sweep", "schedule": 30.0, "options": {"expires": 30.0}},
    # Promises turn broken when a grace ends (a new day) and follow Debitura's synced payments.
    "promises-evaluate-daily": {"task": "promises.evaluate_daily", "schedule": crontab(hour=0, minute=5)},
    "promises-evaluate-synced": {
        "task": "promises.evaluate_synced",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    "expire-export-jobs": {"task": "exports.export_jobs_expire", "schedule": 3600.0},
    # The work list: tasks whose time came, and a nightly rebuild after the full sync (worklist.tasks).
    "worklist-show-due": {"task": "worklist.show_due", "schedule": 60.0, "options": {"expires": 60.0}},
    "worklist-rebuild-nightly": {"task": "worklist.rebuild", "schedule": crontab(hour=3, minute=45)},
    "dashboard-summaries": {
        "task": "dashboard.refresh_summaries",
        "schedule": float(DASHBOARD_REFRESH_SECONDS),
        "options": {"expires": float(DASHBOARD_REFRESH_SECONDS)},
    },
}
# Days after an instalment's due date that a payment still keeps it; after them it is broken.
PROMISE_GRACE_DAYS = env_int("PROMISE_GRACE_DAYS", 3, minimum=0)

# --- E-mail and the morning digest ------------------------------------------------------------
# Without EMAIL_HOST, e-mails are printed by the console backend (the demo's worker log).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_SSL:
    EMAIL_USE_TLS = False  # implicit TLS (port 465) replaces STARTTLS; Django refuses both
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Partner Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's address as people reach it, for links in e-mails (none without it).
PORTAL_BASE_URL = (
    env_url("PORTAL_BASE_URL", "http://localhost", schemes=("http", "https"))
    if env_str("PORTAL_BASE_URL", "")
    else ""
)
# The hour (0-23, TIME_ZONE) at which beat sends the morning digests.
DIGEST_HOUR = env_int("DIGEST_HOUR", 7, minimum=0)
if DIGEST_HOUR > 23:
    raise ImproperlyConfigured(f"DIGEST_HOUR must be an hour from 0 to 23, not {DIGEST_HOUR}.")
CELERY_BEAT_SCHEDULE["worklist-digest"] = {
    "task": "worklist.digest",
    "schedule": crontab(hour=DIGEST_HOUR, minute=0),
}

# --- Exports ----------------------------------------------------------------------------------
# Files built by workers (documents ZIPs, large workbooks) live here and are deleted this many
# hours after they are ready.
EXPORT_ARCHIVE_DIR = VAR_DIR / "exports"
EXPORT_ARCHIVE_HOURS = env_int("EXPORT_ARCHIVE_HOURS", 24, minimum=1)
# An XLSX of more cases than this is written by a worker (a request would outlast proxy timeouts).
EXPORT_XLSX_DIRECT_MAX = env_int("EXPORT_XLSX_DIRECT_MAX", 10_000, minimum=0)

# --- Debitura ---------------------------------------------------------------------------------
DEBITURA_BASE_URL = env_url("DEBITURA_BASE_URL", "http://127.0.0.1:8765", schemes=("http", "https"))
DEBITURA_API_KEY = env_secret("DEBITURA_API_KEY") or ""
DEBITURA_TIMEOUT_SECONDS = env_int("DEBITURA_TIMEOUT_SECONDS", 20, minimum=1)
# Hosts of Debitura's signed file links other than the API's own (".host" allows subdomains).
DEBITURA_FILE_HOSTS = env_list("DEBITURA_FILE_HOSTS", [])
# A webhook signing secret for a subscription made outside the portal (else: manage.py debitura_webhooks).
DEBITURA_WEBHOOK_SECRET = env_secret("DEBITURA_WEBHOOK_SECRET") or ""
# The portal's own webhook address (https://<host>/webhooks/debitura/): when set, a worker that
# starts makes sure Debitura delivers there, registering the subscription if it is missing.
DEBITURA_WEBHOOK_URL = env_str("DEBITURA_WEBHOOK_URL", "")
if DEBITURA_WEBHOOK_URL and not DEBITURA_WEBHOOK_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"DEBITURA_WEBHOOK_URL must be an http(s):// URL; got {DEBITURA_WEBHOOK_URL!r}."
    )
# Child refreshes (timeline, chat, payments, files...) may use this share of the rate limit.
DEBITURA_CHILDREN_SHARE = env_int("DEBITURA_CHILDREN_SHARE_PERCENT", 25, minimum=1) / 100
if DEBITURA_CHILDREN_SHARE > 1:
    raise ImproperlyConfigured("DEBITURA_CHILDREN_SHARE_PERCENT must be between 1 and 100.")
# While no agent's action waits, the children queue may use this much (the rest stays free for
# an action that comes in), so a first import is not held to the share kept while agents act.
DEBITURA_CHILDREN_IDLE_SHARE = env_int("DEBITURA_CHILDREN_IDLE_SHARE_PERCENT", 90, minimum=1) / 100
if not DEBITURA_CHILDREN_SHARE <= DEBITURA_CHILDREN_IDLE_SHARE <= 1:
    raise ImproperlyConfigured(
        "DEBITURA_CHILDREN_IDLE_SHARE_PERCENT must be between DEBITURA_CHILDREN_SHARE_PERCENT and 100."
    )

# --- Outbox: how agents' actions are relayed to Debitura -----------------------------------------
# A worker renews the heartbeat of the row it sends four times a lease; a row whose heartbeat
# stopped this long ago belongs to a dead worker and is checked before it is sent again. The
# sweep (every 10 s) takes such rows back within lease + 10 s.
OUTBOX_LEASE_SECONDS = float(env_int("OUTBOX_LEASE_SECONDS", 20, minimum=4))
OUTBOX_BACKOFF_BASE_SECONDS = float(env_int("OUTBOX_BACKOFF_BASE_SECONDS", 10, minimum=1))
OUTBOX_BACKOFF_CAP_SECONDS = float(
    env_int("OUTBOX_BACKOFF_CAP_SECONDS", 900, minimum=int(OUTBOX_BACKOFF_BASE_SECONDS))
)
OUTBOX_SWEEP_GRACE_SECONDS = float(env_int("OUTBOX_SWEEP_GRACE_SECONDS", 60, minimum=5))

# --- Logging: one line per event on stderr, which docker and systemd collect. -----------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # httpx logs full request URLs at INFO; keep it quiet, our gateway logs what matters.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
