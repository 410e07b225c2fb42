"""Sync benchmarks against the emulator over loopback (the Two-way sync issue).

- a first sync of N cases against fetching the same pages with the bare client (the limit);
- the sync process's peak memory;
- an incremental sync with nothing changed, and with 25 cases changed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import API_KEY, base_env, best_of, control, emulator, requests_made, run_child, table

CASES = 10_000


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


def main(cases: int = CASES) -> list[tuple[str, str]]:
    import django

    django.setup()
    with emulator(cases) as url, tempfile.TemporaryDirectory() as var:
        env = base_env(Path(var), DEBITURA_BASE_URL=url)
        pages = -(-cases // 100)
        cpu_started = time.process_time()
        raw_median, _ = best_of(3, lambda: raw_fetch(url, pages))
        raw_cpu = (time.process_time() - cpu_started) / 3
        bytes_median, _ = best_of(3, lambda: bytes_fetch(url, pages))

        before = requests_made(url).get("GET /cases", 0)
        first = run_child("bench.sync_child", env, "first")
        first_requests = requests_made(url)["GET /cases"] - before

        before = requests_made(url)["GET /cases"]
        idle = run_child("bench.sync_child", env, "incremental")
        idle_requests = requests_made(url)["GET /cases"] - before

        control(url, "POST", "/touch", count=25)
        before = requests_made(url)["GET /cases"]
        changed = run_child("bench.sync_child", env, "incremental")
        changed_requests = requests_made(url)["GET /cases"] - before

        full = run_child("bench.sync_child", env, "full")

    ratio = first["seconds"] / raw_median
    backend = f", PostgreSQL backend {first['backend_cpu']:.2f} s" if first["backend_cpu"] is not None else ""
    return [
        (f"first sync of {cases:,} cases",
         f"{first['seconds']:.2f} s, {first_requests} list requests, {first['created']:,} stored"),
        ("  its CPU time", f"{first['cpu']:.2f} s in Python{backend}"),
        ("same pages, gateway client only", f"{raw_median:.2f} s (median of 3), CPU {raw_cpu:.2f} s"),
        ("same pages, bytes only (httpx)", f"{bytes_median:.2f} s (median of 3)"),
        ("sync / raw ratio",
         f"{ratio:.2f} (against bytes only: {first['seconds'] / bytes_median:.2f}; "
         f"CPU {first['cpu'] / raw_cpu:.2f})"),
        ("peak memory of the sync process", f"{first['peak_mib']:.0f} MiB"),
        ("incremental, nothing changed",
         f"{idle['seconds'] * 1000:.0f} ms, {idle_requests} request(s), {idle['updated']} updated"),
        ("incremental, 25 cases changed",
         f"{changed['seconds'] * 1000:.0f} ms, {changed_requests} request(s), {changed['updated']} updated"),
        ("full reconcile",
         f"{full['seconds']:.2f} s, {full['pages']} pages, {full['updated']} drifted, {full['gone']} gone"),
    ]  # fmt: skip


if __name__ == "__main__":
    print(table(main()))
