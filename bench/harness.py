"""Shared pieces of the benchmarks: an emulator process, timing, a fresh database per run."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-api-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process: demo-like settings on a private VAR_DIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="partnerportal.settings",
        DEBUG="1",
        VAR_DIR=str(var_dir),
        DEBITURA_API_KEY=API_KEY,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    default_db = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    env.setdefault("DATABASE_URL", os.environ.get("BENCH_DATABASE_URL", default_db))
    env.update(extra)
    return env


@contextmanager
def emulator(cases: int, seed: int = 42) -> Iterator[str]:
    """A `runemulator` process with `cases` seeded cases; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory() as var:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runemulator", "--port", str(port), "--cases", str(cases),
             "--seed", str(seed), "--api-key", API_KEY],
            cwd=ROOT, env=base_env(Path(var)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/_emulator/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    errors = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"The emulator did not start: {errors}")
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def control(url: str, method: str, path: str, **body: Any) -> Any:
    response = httpx.request(method, f"{url}/_emulator{path}", json=body or None, timeout=60)
    response.raise_for_status()
    return response.json()


def requests_made(url: str) -> dict[str, int]:
    return dict(control(url, "GET", "/stats")["requests"])


def run_child(module: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run `python -m module args` and return the JSON object it prints last."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", module, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, float]:
    """(median, best) seconds over `repeat` runs of `work`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name.ljust(width)}  {value}" for name, value in rows)


def command(child: Callable[[str], dict[str, Any]], main: Callable[[], list[tuple[str, str]]]) -> None:
    """A benchmark module run as a program: `python -m bench.x` prints its table; `python -m
    bench.x child ARG` is the child process main() starts, and prints its figures as JSON."""
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(sys.argv[2])))
    else:
        print(table(main()))


def scratch_postgres(url: str) -> tuple[str, Any]:
    """A fresh database beside BENCH_DATABASE_URL's (its data is left alone) and its dropper."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def each_backend(
    run: Callable[[str, Path, int], dict[str, Any]], sizes: Sequence[int]
) -> Iterator[tuple[str, dict[int, dict[str, Any]]]]:
    """("SQLite", {size: result}), then PostgreSQL's when BENCH_DATABASE_URL names one: `run`
    measures each size in a child process, on a fresh database and VAR_DIR of its own."""
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    if os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        backends.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    for label, url in backends:
        results = {}
        for count in sizes:
            with tempfile.TemporaryDirectory() as var:
                if url is None:
                    results[count] = run(f"sqlite:///{Path(var) / 'bench.sqlite3'}", Path(var), count)
                else:
                    scratch, drop = scratch_postgres(url)
                    try:
                        results[count] = run(scratch, Path(var), count)
                    finally:
                        drop()
        yield label, results
