"""A real Celery worker for integration tests: its own process group, killed outright on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """A `celery worker -B` process group that can be killed outright and started again."""

    def __init__(self, env: dict[str, str], queue: str, log_path: Path, beat_path: Path) -> None:
        self.env, self.queue, self.log_path, self.beat_path = env, queue, log_path, beat_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "partnerportal",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "2",
                    "--queues",
                    self.queue,
                    "--beat",
                    "--schedule",
                    str(self.beat_path),
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--hostname",
                    f"{self.queue}-{self.starts}@%h",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one killpg takes the pool and beat
            )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


def worker_env(
    *, name: str, settings: Any, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: str
) -> dict[str, str]:
    """The environment of workers on the test's database, the emulator server and a queue of the
    test's own; relays this process queues go to that queue (not to a demo worker's)."""
    from outbox.tasks import relay_outbox

    queue = f"{name}-{uuid.uuid4().hex[:10]}"
    send = relay_outbox.apply_async
    monkeypatch.setattr(relay_outbox, "delay", lambda *args: send(args=args, queue=queue))
    settings.MEDIA_ROOT = tmp_path / "media"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "OUTBOX_TEST_DB_NAME": str(settings.DATABASES["default"]["NAME"]),
        "OUTBOX_TEST_QUEUE": queue,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBITURA_BASE_URL": server.url,
        "DEBITURA_API_KEY": server.emulator.api_key,
        "LOG_LEVEL": "INFO",
        **extra,
    }


def workers_for(env: dict[str, str], tmp_path: Path) -> Workers:
    return Workers(env, env["OUTBOX_TEST_QUEUE"], tmp_path / "worker.log", tmp_path / "beat-schedule")


def wait_for(condition: Any, *, seconds: float, what: str, log_path: Path | None = None) -> None:
    """Poll `condition()` until it holds; fail with `what` (and the worker's log) after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-4000:] if log_path and log_path.exists() else ""
            pytest.fail(f"Not {what} after {seconds:.0f} s.\n{tail}")
        time.sleep(0.1)


def synced_with_team(server: Any, agent: Any) -> None:
    """The emulator's cases pulled into the test database, and `agent` a member of its team."""
    from cases.models import TeamMember
    from cases.sync import cases_sync_incremental
    from debitura.client import DebituraClient
    from debitura.throttle import NoThrottle

    emulator = server.emulator
    with DebituraClient(server.url, emulator.api_key, throttle=NoThrottle()) as client:
        run = cases_sync_incremental(client=client)
    assert not run.error, run.error
    member = next(u for u in emulator.state.users.values() if u.active)
    TeamMember.objects.create(id=member.id, name=member.name, email=member.email, user=agent)
