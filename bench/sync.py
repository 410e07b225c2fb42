"""Sync benchmarks against the emulator over loopback (the Two-way sync issue).

- a first sync of N cases against fetching the same pages with the bare client (the limit);
- the sync process's peak memory;
- an incremental sync with nothing changed, and with 25 cases changed.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import API_KEY, base_env, best_of, control, emulator, requests_made, run_child, table

CASES = 10_000
ROUNDS = int(os.environ.get("BENCH_SYNC_ROUNDS", 3))


def _emulator_pid() -> int | None:
    """The emulator: the one child process this process has while `emulator()` runs."""
    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if len(children) == 1 else None


def process_cpu(pid: int | None) -> float:
    """CPU seconds a process has used so far (0 where /proc cannot tell)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def scratch_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database beside BENCH_DATABASE_URL's (whose data is left alone), dropped
    afterwards; None (a private SQLite file) when BENCH_DATABASE_URL is not PostgreSQL.

    A first sync must start from an empty table: reusing the named database would time an update.
    """
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_sync_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_fetch(url: str, pages: int) -> None:
    """The physical limit: the same GET /cases pages through the gateway client, kept nowhere."""
    from debitura.client import DebituraClient
    from debitura.throttle import NoThrottle
    from debitura.types import CaseFilters

    filters = CaseFilters(sort="DateUpdated:desc", include_test_cases=True)
    with DebituraClient(url, API_KEY, throttle=NoThrottle()) as client:
        for page in range(1, pages + 1):
            client.list_cases(filters, page=page, page_size=100)


def bytes_fetch(url: str, pages: int) -> None:
    """Even barer: the bytes over httpx, not decoded."""
    with httpx.Client(base_url=url, headers={"XApiKey": API_KEY}, timeout=60) as http:
        for page in range(1, pages + 1):
            params: dict[str, str | int] = {
                "Page": page,
                "PageSize": 100,
                "Sort": "DateUpdated:desc",
                "includeTestCases": "true",
            }
            http.get("/cases", params=params).raise_for_status()


@contextmanager
def first_sync(url: str, server: int | None, var: Path) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """A first sync into an empty database of its own (with its list requests and the emulator's
    CPU meanwhile), and the environment that reaches that database while the block runs."""
    with scratch_database() as database:
        extra = {"DATABASE_URL": database} if database else {}
        env = base_env(var, DEBITURA_BASE_URL=url, **extra)
        before, server_before = requests_made(url).get("GET /cases", 0), process_cpu(server)
        first = run_child("bench.sync_child", env, "first")
        first["server_cpu"] = process_cpu(server) - server_before
        first["requests"] = requests_made(url)["GET /cases"] - before
        yield first, env


def main(cases: int = CASES, rounds: int = ROUNDS) -> list[tuple[str, str]]:
    import django

    django.setup()
    pages = -(-cases // 100)
    syncs: list[dict[str, Any]] = []
    raws: list[dict[str, float]] = []
    with emulator(cases) as url, tempfile.TemporaryDirectory() as var:
        server = _emulator_pid()
        bytes_median, _ = best_of(3, lambda: bytes_fetch(url, pages))
        # Raw fetch and first sync alternate, so a burst of load elsewhere hits both alike; each
        # round's ratio is of its own two runs.
        for number in range(rounds):
            started, cpu, server_cpu = time.perf_counter(), time.process_time(), process_cpu(server)
            raw_fetch(url, pages)
            raws.append({
                "seconds": time.perf_counter() - started,
                "cpu": time.process_time() - cpu,
                "server_cpu": process_cpu(server) - server_cpu,
            })  # fmt: skip
            with first_sync(url, server, Path(var) / str(number)) as (first, env):
                syncs.append(first)
                if number < rounds - 1:
                    continue
                # The last round's database stays for the incremental and full runs.
                before = requests_made(url)["GET /cases"]
                idle = run_child("bench.sync_child", env, "incremental")
                idle_requests = requests_made(url)["GET /cases"] - before

                control(url, "POST", "/touch", count=25)
                before = requests_made(url)["GET /cases"]
                changed = run_child("bench.sync_child", env, "incremental")
                changed_requests = requests_made(url)["GET /cases"] - before

                full = run_child("bench.sync_child", env, "full")

    def listed(items: list[dict[str, Any]], key: str) -> str:
        return ", ".join(f"{item[key]:.2f}" for item in items)

    def median(items: list[dict[str, Any]], key: str) -> float:
        return statistics.median(item[key] for item in items)

    ratios = [sync["seconds"] / raw["seconds"] for sync, raw in zip(syncs, raws, strict=True)]
    cpu_ratios = [sync["cpu"] / raw["cpu"] for sync, raw in zip(syncs, raws, strict=True)]
    backend = (
        f", PostgreSQL backend {median(syncs, 'backend_cpu'):.2f} s"
        if all(sync["backend_cpu"] is not None for sync in syncs)
        else ""
    )
    of = f"median of {rounds}"
    return [
        (f"first sync of {cases:,} cases",
         f"{median(syncs, 'seconds'):.2f} s ({of}: {listed(syncs, 'seconds')}), "
         f"{max(s['requests'] for s in syncs)} list requests, {min(s['created'] for s in syncs):,} stored"),
        ("  its CPU time",
         f"{median(syncs, 'cpu'):.2f} s in Python{backend}, emulator {median(syncs, 'server_cpu'):.2f} s"),
        ("same pages, gateway client only",
         f"{median(raws, 'seconds'):.2f} s ({of}: {listed(raws, 'seconds')}), "
         f"CPU {median(raws, 'cpu'):.2f} s, emulator {median(raws, 'server_cpu'):.2f} s"),
        ("same pages, bytes only (httpx)", f"{bytes_median:.2f} s (median of 3)"),
        ("sync / raw ratio",
         f"{statistics.median(ratios):.2f} ({of}, each against its own round's raw fetch: "
         f"{', '.join(f'{r:.2f}' for r in ratios)}; against bytes only: "
         f"{median(syncs, 'seconds') / bytes_median:.2f}; Python CPU {statistics.median(cpu_ratios):.2f})"),
        ("peak memory of the sync process", f"{max(s['peak_mib'] for s in syncs):.0f} MiB"),
        ("incremental, nothing changed",
         f"{idle['seconds'] * 1000:.0f} ms, {idle_requests} request(s), {idle['updated']} updated"),
        ("incremental, 25 cases changed",
         f"{changed['seconds'] * 1000:.0f} ms, {changed_requests} request(s), {changed['updated']} updated"),
        ("full reconcile",
         f"{full['seconds']:.2f} s, {full['pages']} pages, {full['updated']} drifted, {full['gone']} gone"),
    ]  # fmt: skip


if __name__ == "__main__":
    print(table(main()))
