"""One sync in a process of its own, so its peak memory is its own: `python -m bench.sync_child KIND`."""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import django


def backend_cpu() -> float | None:
    """CPU seconds of this process's PostgreSQL backend so far (None elsewhere or off this host)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(kind: str) -> None:
    django.setup()
    from django.core.management import call_command

    if kind == "first":
        call_command("migrate", verbosity=0)
    from cases.sync import cases_sync_full, cases_sync_incremental

    backend_before = backend_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    run = cases_sync_full() if kind == "full" else cases_sync_incremental()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    backend_after = backend_cpu()
    backend = None if backend_before is None or backend_after is None else backend_after - backend_before
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": seconds, "cpu": cpu, "backend_cpu": backend, "pages": run.pages, "created": run.created,
        "updated": run.updated, "unchanged": run.unchanged, "gone": run.gone, "error": run.error,
        "peak_mib": peak_kib / 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
