"""The web server as production runs it: gunicorn with gunicorn.conf.py, DEBUG=0, a process of its own."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.production import PRODUCTION_ENV, ROOT, manage

pytestmark = pytest.mark.integration
HOST = PRODUCTION_ENV["ALLOWED_HOSTS"]


def gunicorn_env(var_dir: Path, **extra: str) -> dict[str, str]:
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return {
        **clean,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "partnerportal.settings",
        "VAR_DIR": str(var_dir),
        "GUNICORN_BIND": f"unix:{var_dir / 'gunicorn.sock'}",
        "WEB_CONCURRENCY": "1",
        **extra,
    }


def gunicorn_command() -> list[str]:
    # Started from the project folder, as the README and the image do: gunicorn.conf.py is read from there.
    return [str(Path(sys.executable).with_name("gunicorn"))]


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var_dir = tmp_path_factory.mktemp("var")
    result = manage("collectstatic", "--no-input", env={**PRODUCTION_ENV, "VAR_DIR": str(var_dir)})
    assert result.returncode == 0, result.stderr
    return var_dir


def serve(var_dir: Path, **extra: str) -> Iterator[httpx.Client]:
    socket = var_dir / "gunicorn.sock"
    socket.unlink(missing_ok=True)
    log = (var_dir / "gunicorn.log").open("w")
    server = subprocess.Popen(
        gunicorn_command(), cwd=ROOT, env=gunicorn_env(var_dir, **extra), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while not socket.exists():
            assert server.poll() is None, (var_dir / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not open its socket in 60 s"
            time.sleep(0.05)
        transport = httpx.HTTPTransport(uds=str(socket))
        with httpx.Client(transport=transport, base_url=f"http://{HOST}", timeout=30) as client:
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_gunicorn_refuses_to_start_until_the_static_files_are_collected(tmp_path):
    result = subprocess.run(
        gunicorn_command(), cwd=ROOT, env=gunicorn_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert f"static files are not collected in {tmp_path / 'staticfiles'}" in result.stderr
    assert "run `python manage.py collectstatic --no-input` with the same settings" in result.stderr


def test_without_trust_a_client_cannot_claim_https(collected):
    for client in serve(collected, TRUST_X_FORWARDED_PROTO="0"):
        response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
        assert response.status_code == 301
        assert response.headers["location"] == f"https://{HOST}/accounts/login/"


def test_behind_a_trusted_proxy_pages_and_their_static_files_are_served(collected):
    for client in serve(collected, TRUST_X_FORWARDED_PROTO="1"):
        assert client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"}).status_code == 301
        page = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, page.text
        css = client.get(stylesheet.group(1), headers={"X-Forwarded-Proto": "https"})
        assert css.status_code == 200
        assert ".login-card" in css.text


def test_a_long_streamed_export_is_not_cut_at_the_worker_timeout():
    # A sync worker reports to gunicorn's arbiter only between requests; gthread keeps reporting
    # while a thread streams, so an export longer than `timeout` seconds finishes.
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["worker_class"] == "gthread"
    assert config["threads"] >= 2
