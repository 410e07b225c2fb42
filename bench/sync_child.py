"""One sync in a process of its own, so its peak memory is its own: `python -m bench.sync_child KIND`."""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from typing import Any

import django


def backend_cpu() -> float | None:
    """CPU seconds of this thread's PostgreSQL backend so far (None elsewhere or off this host)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
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
    from cases.sync import cases_sync_full, cases_sync_incremental, pages

    # Writer threads have backends of their own, gone when the run ends: count each batch's share.
    main_thread, writers_cpu = threading.get_ident(), [0.0]
    pages_write = pages._pages_write

    def counted(**kwargs: Any) -> Any:
        if threading.get_ident() == main_thread:
            return pages_write(**kwargs)
        before = backend_cpu()
        try:
            return pages_write(**kwargs)
        finally:
            after = backend_cpu()
            if before is not None and after is not None:
                writers_cpu[0] += after - before

    pages._pages_write = counted
    backend_before = backend_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    run = cases_sync_full() if kind == "full" else cases_sync_incremental()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    backend_after = backend_cpu()
    backend = (
        None
        if backend_before is None or backend_after is None
        else backend_after - backend_before + writers_cpu[0]
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": seconds, "cpu": cpu, "backend_cpu": backend, "pages": run.pages, "created": run.created,
        "updated": run.updated, "unchanged": run.unchanged, "gone": run.gone, "error": run.error,
        "peak_mib": peak_kib / 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
