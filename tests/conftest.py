"""Shared fixtures for the whole suite; each area keeps its fixtures in tests/fixtures/."""

import pytest
from django.core.cache import cache

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.gateway",
    "tests.fixtures.accounts",
    "tests.fixtures.browser",
    "tests.fixtures.cases",
    "tests.fixtures.outbox",
]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache (tab counts, the user list, revenue shares...)."""
    cache.clear()
    yield
    cache.clear()
