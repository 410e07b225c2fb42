"""One sync in a process of its own, so its peak memory is its own: `python -m bench.sync_child KIND`."""

from __future__ import annotations

import json
import resource
import sys
import time

import django


def main(kind: str) -> None:
    django.setup()
    from django.core.management import call_command

    if kind == "first":
        call_command("migrate", verbosity=0)
    from cases.sync import cases_sync_full, cases_sync_incremental

    started = time.perf_counter()
    run = cases_sync_full() if kind == "full" else cases_sync_incremental()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": seconds, "pages": run.pages, "created": run.created, "updated": run.updated,
        "unchanged": run.unchanged, "gone": run.gone, "error": run.error, "peak_mib": peak_kib / 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
