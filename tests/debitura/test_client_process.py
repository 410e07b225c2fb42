"""The per-process client built from settings, and the gateway over a real loopback socket."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from debitura import client as client_module
from debitura.client import DebituraClient, client_from_settings, get_client, reset_client
from debitura.errors import TransientError
from debitura.throttle import FileThrottle, RedisThrottle
from tests.contract import contract_hooks

pytestmark = pytest.mark.usefixtures("fresh_client_singleton")


def test_get_client_is_one_client_per_process(settings: Any) -> None:
    settings.DEBITURA_BASE_URL = "http://debitura.test"
    first = get_client()
    assert get_client() is first
    assert str(first._http.base_url) == "http://debitura.test"


def test_get_client_uses_the_configured_timeout(settings: Any) -> None:
    settings.DEBITURA_TIMEOUT_SECONDS = 7
    timeout = get_client()._http.timeout
    assert timeout.read == 7.0
    assert timeout.connect == 5.0


def test_reset_client_builds_a_new_one() -> None:
    first = get_client()
    reset_client()
    assert get_client() is not first


def test_a_forked_child_gets_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = get_client()
    child_pid = os.getpid() + 100_000
    monkeypatch.setattr(client_module.os, "getpid", lambda: child_pid)
    assert get_client() is not parent


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_really_forked_child_does_not_reuse_the_parents_pool() -> None:
    parent_id = id(get_client())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it built its own client, then leave at once
        try:
            os.write(write_end, b"own" if id(get_client()) != parent_id else b"shared")
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 16)
    os.waitpid(pid, 0)
    assert answer == b"own"


def test_a_missing_api_key_is_a_configuration_error(settings: Any) -> None:
    settings.DEBITURA_API_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="DEBITURA_API_KEY"):
        get_client()


def test_a_redis_broker_gives_the_shared_rate_limiter(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert isinstance(get_client()._throttle, RedisThrottle)


def test_without_redis_the_processes_of_the_machine_share_a_file_rate_limiter(
    settings: Any, tmp_path: Any
) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.VAR_DIR = tmp_path
    throttle: Any = get_client()._throttle
    assert isinstance(throttle, FileThrottle)
    assert throttle.path == tmp_path / "debitura-throttle.sqlite3"


def test_a_client_for_background_work_gets_a_capped_share(settings: Any, tmp_path: Any) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.VAR_DIR = tmp_path
    background = client_from_settings(share=("children", 0.25))
    throttle: Any = background._throttle
    assert [bucket.name for bucket in throttle.buckets] == ["all", "children"]
    assert [window.limit for window in throttle.buckets[1].windows] == [500, 5_000, 25_000]
    # Same store as the main client's limiter, so both count against one budget.
    assert throttle.path == get_client()._throttle.path  # type: ignore[attr-defined]


def test_the_gateway_works_over_a_real_loopback_socket(emulator_server: Any) -> None:
    with DebituraClient(emulator_server.url, "test-api-key", event_hooks=contract_hooks()) as client:
        assert client.get_me().id
        assert client.list_cases(page_size=3).cases


def test_a_refused_connection_is_transient_and_not_ambiguous() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    client = DebituraClient(f"http://127.0.0.1:{port}", "test-api-key", retries=0)
    with pytest.raises(TransientError) as caught:
        client.create_note("3fa85f64-5717-4562-b3fc-2c963f66afa6", description="Called.")
    assert not caught.value.ambiguous
