"""`make bench`: every benchmark, printed as figures and ratios (BENCH_CASES scales the sync one)."""

from __future__ import annotations

import os
import sys
import time

from bench.harness import table


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerportal.settings")
    os.environ.setdefault("DEBUG", "1")
    from bench import sync

    cases = int(os.environ.get("BENCH_CASES", sync.CASES))
    started = time.perf_counter()
    print(f"Sync against the emulator over loopback ({cases:,} cases, database: "
          f"{os.environ.get('BENCH_DATABASE_URL', 'SQLite')}):")  # fmt: skip
    print(table(sync.main(cases)))
    from bench import case_list

    sizes = " and ".join(f"{n:,}" for n in case_list.SIZES)
    print(f"\nCase list server time at {sizes} cached cases (median of {case_list.REPEAT}; "
          "first visit: Django's cache cleared; tab counts are always live):")  # fmt: skip
    print(table(case_list.main()))
    from bench import dashboard

    sizes = " and ".join(f"{n:,}" for n in dashboard.SIZES)
    print(f"\nDashboard server time at {sizes} cases with their payments, chat and notes (median of "
          f"{dashboard.REPEAT}; summary rows rebuilt once, as the beat task does):")  # fmt: skip
    print(table(dashboard.main()))
    from bench import relay

    database = os.environ.get("BENCH_DATABASE_URL", "SQLite")
    print(f"\nThe outbox relay against the same actions posted with the bare client ({relay.ACTIONS} "
          f"actions, median of {relay.ROUNDS}; database: {database}):")  # fmt: skip
    print(table(relay.main()))
    from bench import children

    every, run = f"{children.BEAT_SECONDS:.0f} s", f"{children.SECONDS:.0f} s"
    print(f"\nThe children queue on a first import of {children.CASES:,} cases, the beat's task every "
          f"{every} for {run}, through the production rate limiter:")  # fmt: skip
    print(table(children.main()))
    from bench import exports

    sizes = " and ".join(f"{n:,}" for n in exports.SIZES)
    print(f"\nThe case export at {sizes} cases (every case, default columns; best of {exports.REPEAT}; "
          "peak memory under tracemalloc):")  # fmt: skip
    print(table(exports.main()))

    from bench import worklist

    sizes = " and ".join(f"{n:,}" for n in worklist.SIZES)
    print(f"\nThe inbox (My work) server time at {sizes} cases (median of {worklist.REPEAT}; target: "
          "within 1.5x):")  # fmt: skip
    print(table(worklist.main()))
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
