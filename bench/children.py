"""The children queue on a first import (the Cockpit issue's "The first import says how far it is").

A child process on a fresh database syncs CASES cases (so every case waits for its timeline, chat,
payments, files, exclusivity and validation), then runs the beat's children task every 20 s for
SECONDS, through the production clients and rate limiter, twice: with no agent action waiting
(the queue may use the unused part of the limit) and with one waiting (it keeps to its share).
It reports requests per case and the share of the key's per-minute limit (2,000) used.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import base_env, command, control, emulator, requests_made, run_child

CASES = int(os.environ.get("BENCH_CHILDREN_CASES", 1000))
SECONDS = float(os.environ.get("BENCH_CHILDREN_SECONDS", 60))
BEAT_SECONDS = 20.0  # partnerportal.settings: CELERY_BEAT_SCHEDULE["refresh-children"]
PER_MINUTE = 2000  # debitura.throttle.DEBITURA_WINDOWS


def _children_requests(url: str) -> int:
    return sum(n for name, n in requests_made(url).items() if name.startswith("GET /cases/{id}/"))


def _run(url: str, seconds: float) -> dict[str, Any]:
    """The beat's children task every BEAT_SECONDS (or right after the last when it ran longer)."""
    from cases.models import Case
    from cases.tasks import refresh_children_batch  # the beat's task: a batch, then the progress

    stale_before = Case.objects.filter(children_stale=True).count()
    before, started = _children_requests(url), time.monotonic()
    for beat in range(max(1, round(seconds / BEAT_SECONDS))):
        wait = started + beat * BEAT_SECONDS - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        refresh_children_batch()
    # The window the batches had: up to the next beat, or longer when the last one ran over.
    time.sleep(max(0.0, started + (beat + 1) * BEAT_SECONDS - time.monotonic()))
    elapsed = time.monotonic() - started
    done = stale_before - Case.objects.filter(children_stale=True).count()
    requests = _children_requests(url) - before
    return {"seconds": elapsed, "requests": requests, "cases": done}


def child(url: str) -> dict[str, Any]:
    """Sync, then the children queue with the outbox idle and with an agent's action waiting."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cases.models import Case
    from cases.sync import cases_sync_incremental
    from debitura.client import get_client
    from outbox.models import OutboxAction

    run = cases_sync_incremental(client=get_client())
    assert not run.error, run.error
    idle = _run(url, SECONDS)
    # An action an agent queued that has not gone out: the relay would be sending it now.
    OutboxAction.objects.create(
        kind=OutboxAction.Kind.NOTE,
        case=Case.objects.order_by("id")[0],
        actor=get_user_model().objects.create(username="bench-agent"),
        payload={"description": "waiting"},
        idempotency_key="bench-waiting",
    )
    busy = _run(url, SECONDS)
    return {"idle": idle, "busy": busy, "synced": Case.objects.count()}


def main() -> list[tuple[str, str]]:
    with emulator(CASES) as url, tempfile.TemporaryDirectory() as var:
        # The emulator's own limit out of the way: the portal's limiter is what is measured.
        control(url, "POST", "/rate-limits", perMinute=10**7, perHour=10**8, perDay=10**9)
        figures = run_child("bench.children", base_env(Path(var), DEBITURA_BASE_URL=url), "child", url)
    rows = []
    for name, label in (("idle", "no agent action waiting"), ("busy", "an agent action waiting")):
        f = figures[name]
        per_minute = f["requests"] * 60 / f["seconds"]
        rows.append((
            f"children queue, {label}",
            f"{f['cases']} cases in {f['seconds']:.0f} s, "
            f"{f['requests'] / max(1, f['cases']):.2f} requests per case, {per_minute:,.0f} requests a "
            f"minute = {per_minute / PER_MINUTE:.0%} of the limit ({PER_MINUTE:,} a minute); "
            f"{f['cases'] * 60 / f['seconds']:,.0f} cases a minute",
        ))  # fmt: skip
    return rows


if __name__ == "__main__":
    command(child, main)
