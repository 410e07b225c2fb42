"""A real Celery worker process picks up a task from the configured broker.

Against Redis in CI (CELERY_BROKER_URL=redis://...), against the file-system broker elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from partnerportal.celery import app
from partnerportal.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_a_real_worker_runs_a_queued_task(tmp_path):
    # A queue of our own keeps a demo worker running on this machine from taking the task.
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    with log.open("w") as log_file:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "partnerportal",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"{queue}@%h",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        result = heartbeat.apply_async(queue=queue)
        stamp = result.get(timeout=90)
        assert stamp[:4].isdigit(), stamp
        assert result.successful()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert f"Task partnerportal.tasks.heartbeat[{result.id}] succeeded" in log.read_text()


def test_the_broker_is_the_one_configured(settings):
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
