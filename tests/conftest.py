"""Shared fixtures for the whole suite; each area keeps its fixtures in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.gateway",
    "tests.fixtures.accounts",
    "tests.fixtures.browser",
    "tests.fixtures.cases",
    "tests.fixtures.outbox",
]
