"""Entry point for `make bench`. Each benchmark module registers itself in BENCHMARKS."""

import sys

BENCHMARKS: list[str] = []


def main() -> int:
    if not BENCHMARKS:
        print("No benchmarks yet: the sync and case-list benchmarks arrive with their issues.")
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
