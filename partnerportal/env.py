"""Typed readers for settings that come from the environment.

Each helper refuses a malformed value with ImproperlyConfigured naming the variable, so a
typo in a deployment fails at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] = os.environ) -> str:
    """A string; required when no default is given."""
    value = environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] = os.environ) -> bool:
    """A boolean written as 1/0, true/false, yes/no or on/off."""
    value = environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {value!r}.")


def env_int(
    name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] = os.environ
) -> int:
    """A whole number, optionally with a lower bound."""
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] = os.environ) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(
    name: str, default: str | None = None, *, environ: Mapping[str, str] = os.environ
) -> str | None:
    """A secret from NAME or from the file named by NAME_FILE (Docker and Kubernetes secrets).

    Setting both is refused: which one wins would be a guess.
    """
    file_name = environ.get(f"{name}_FILE")
    if file_name and environ.get(name):
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if file_name:
        try:
            secret = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_name!r}, which cannot be read: {exc.strerror}."
            ) from None
        if not secret:
            raise ImproperlyConfigured(f"{name}_FILE points at {file_name!r}, which is empty.")
        return secret
    value = environ.get(name)
    return value if value else default


def env_url(
    name: str, default: str, *, schemes: tuple[str, ...], environ: Mapping[str, str] = os.environ
) -> str:
    """An absolute URL whose scheme is one of `schemes`."""
    value = environ.get(name) or default
    parts = urlsplit(value)
    if parts.scheme not in schemes or (parts.scheme in ("http", "https") and not parts.netloc):
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must be a URL starting with {allowed}; got {value!r}.")
    return value.rstrip("/") if parts.scheme in ("http", "https") else value


def env_timezone(name: str, default: str, *, environ: Mapping[str, str] = os.environ) -> str:
    """An IANA time zone name such as Europe/Copenhagen."""
    value = environ.get(name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be an IANA time zone such as Europe/Copenhagen, not {value!r}."
        ) from None
    return value


def database_from_url(url: str, *, name: str = "DATABASE_URL", base_dir: Path) -> dict[str, Any]:
    """Django DATABASES entry for sqlite:///path or postgres://user:pass@host:port/db.

    dj-database-url reads the URL; this adds the portal's own terms: only SQLite and PostgreSQL,
    SQLite tuned for a web process and workers sharing one file, a relative path under base_dir.
    """
    example = "e.g. postgres://user@127.0.0.1:5432/portal"
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except dj_database_url.UnknownSchemeError:
        db = {}
    except dj_database_url.ParseError:
        raise ImproperlyConfigured(
            f"{name} has a port that is not a number, or a part that is not %-quoted."
        ) from None
    engine = db.get("ENGINE")
    if engine == "django.db.backends.sqlite3":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory:
        path = db["NAME"]
        if not urlsplit(url).path[1:]:  # "sqlite://", which dj-database-url reads as in memory
            raise ImproperlyConfigured(f"{name} needs a file path, e.g. sqlite:///var/db.sqlite3.")
        if path != ":memory:" and not Path(path).is_absolute():
            path = str(base_dir / path)
        return {
            "ENGINE": engine,
            "NAME": path,
            # WAL lets the web process read while a worker writes; IMMEDIATE avoids
            # "database is locked" on upgrade from a read to a write transaction.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if engine == "django.db.backends.postgresql":
        options = db.get("OPTIONS", {})
        # ?host=/run/postgresql: a Unix socket directory, for a URL with no host part.
        host = db["HOST"] or str(options.pop("host", ""))
        if not host:
            raise ImproperlyConfigured(f"{name} needs a host, {example}.")
        if not db["NAME"]:
            raise ImproperlyConfigured(f"{name} needs a database name, {example}.")
        return {**db, "HOST": host, "PORT": str(db["PORT"]), "OPTIONS": options}
    raise ImproperlyConfigured(f"{name} must start with sqlite:/// or postgres://; got {url!r}.")
