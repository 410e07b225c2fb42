"""Liveness of the portal's dependencies, for /healthz and the ops person."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True, slots=True)
class Check:
    """One dependency's answer."""

    name: str
    ok: bool
    detail: str
    elapsed_ms: int


def _timed(name: str, probe: object) -> Check:
    started = time.monotonic()
    try:
        detail = probe()  # type: ignore[operator]
        ok = True
    except Exception as exc:
        detail, ok = type(exc).__name__, False
    return Check(name, ok, detail, int((time.monotonic() - started) * 1000))


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    from partnerportal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_name


def health_checks() -> list[Check]:
    """Check the database and the Celery broker; each check reports, never raises."""
    return [_timed("database", _database), _timed("broker", _broker)]
