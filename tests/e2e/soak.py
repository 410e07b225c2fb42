"""Run the e2e suite several times in a row while every core is kept busy by another process.

    python -m tests.e2e.soak [--runs 5] [pytest arguments...]

The default pytest arguments are the e2e suite and the browser tests that used to fail under
load. Stops at the first failing run; exits non-zero unless every run passed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from typing import Any

DEFAULT_ARGS = [
    "tests/e2e",
    "tests/browser/test_case_list.py",
    "tests/browser/test_case_actions.py",
    "tests/browser/test_documents.py",
    "-q",
    "-p",
    "no:cacheprovider",
]


def _burn(stop: Any) -> None:
    # Pure CPU, no I/O: the load a busy neighbour puts on the machine.
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--burners", type=int, default=os.cpu_count() or 2, help="busy processes (default: cores)"
    )
    options, pytest_args = parser.parse_known_args(argv)
    stop = multiprocessing.Event()
    burners = [
        multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(options.burners)
    ]
    for burner in burners:
        burner.start()
    print(f"soak: {options.burners} busy processes beside {options.runs} runs of pytest", flush=True)
    results: list[tuple[int, float]] = []
    try:
        for run in range(1, options.runs + 1):
            started = time.monotonic()
            code = subprocess.call([sys.executable, "-m", "pytest", *(pytest_args or DEFAULT_ARGS)])
            results.append((code, time.monotonic() - started))
            print(
                f"soak: run {run}/{options.runs} {'passed' if code == 0 else 'FAILED'} "
                f"in {results[-1][1]:.0f}s",
                flush=True,
            )
            if code:
                break
    finally:
        stop.set()
        for burner in burners:
            burner.join(10)
    passed = sum(1 for code, _ in results if code == 0)
    print(
        f"soak: {passed} of {options.runs} runs passed under load "
        f"({', '.join(f'{seconds:.0f}s' for _, seconds in results)})",
        flush=True,
    )
    return 0 if passed == options.runs else 1


if __name__ == "__main__":
    sys.exit(main())
