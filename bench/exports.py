"""The case export (CSV and XLSX) at 1,000 and 100,000 cases: time and peak memory.

Each size runs in a child process on a fresh SQLite database (and a scratch PostgreSQL database
next to BENCH_DATABASE_URL when it is set), filled as bench.case_list fills it. The export is
asked for through the view with Django's test Client, as a supervisor, with the default columns,
and its body read piece by piece as a browser would. Time: the best of REPEAT runs. Memory: the
peak of what Python allocated during one more run, under tracemalloc (which slows it, so it is
not timed); SQLite's own page cache is outside it and fixed in size. Flat memory means the peak
at 100,000 cases is about the peak at 1,000.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.case_list import make_cases
from bench.harness import base_env, best_of, each_backend, run_child

SIZES = tuple(int(n) for n in os.environ.get("BENCH_EXPORT_SIZES", "1000,100000").split(","))
REPEAT = 2
FORMATS = ("csv", "xlsx")


def child(count: int) -> dict[str, Any]:
    """In a child process on its own database: migrate, fill, export in each format."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.roles import SUPERVISOR
    from accounts.services import user_create

    call_command("migrate", verbosity=0)
    make_cases(count)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case" if connection.vendor == "postgresql" else "ANALYZE")
    user = user_create(username="bench", email="bench@example.com", password="x", role=SUPERVISOR)  # noqa: S106
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)  # type: ignore[arg-type]

    figures: dict[str, Any] = {}
    for file_format in FORMATS:
        sizes: list[int] = []

        def export(file_format: str = file_format, sizes: list[int] = sizes) -> None:
            response = client.get("/exports/cases/file", {"format": file_format})
            assert response.status_code == 200, response.status_code
            size = 0
            for piece in response.streaming_content:  # type: ignore[attr-defined]
                size += len(piece)
            response.close()
            sizes.append(size)

        export()  # warm: templates, the permission cache, the first connection
        seconds, _ = best_of(REPEAT, export)
        tracemalloc.start()
        tracemalloc.reset_peak()
        export()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures[file_format] = {"seconds": seconds, "peak": peak, "bytes": sizes[-1]}
    return figures


def _run(database_url: str, var: Path, count: int) -> dict[str, Any]:
    # Every size as a direct download: the bench measures the writer, not the job that takes
    # over above EXPORT_XLSX_DIRECT_MAX cases (exports.jobs).
    env = base_env(var, DATABASE_URL=database_url, EXPORT_XLSX_DIRECT_MAX="100000000")
    return run_child("bench.exports", env, "child", str(count))


def main() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for label, results in each_backend(_run, SIZES):
        small, big = results[SIZES[0]], results[SIZES[-1]]
        for file_format in FORMATS:
            a, b = small[file_format], big[file_format]
            rows.append(
                (
                    f"{label}: {file_format.upper()} export",
                    f"{a['seconds']:.2f} s at {SIZES[0]:,} / {b['seconds']:.1f} s at {SIZES[-1]:,} = "
                    f"{b['seconds'] / a['seconds']:.0f}x time ({b['bytes'] / 1e6:.1f} MB file); peak memory "
                    f"{a['peak'] / 1e6:.2f} MB / {b['peak'] / 1e6:.2f} MB = {b['peak'] / a['peak']:.2f}x",
                )
            )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        started = time.perf_counter()
        for name, value in main():
            print(f"  {name}  {value}")
        print(f"(took {time.perf_counter() - started:.0f} s)")
