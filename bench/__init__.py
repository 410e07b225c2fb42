"""Benchmarks run by `make bench`: ratios measured against the emulator over loopback."""
