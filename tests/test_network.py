"""The suite may reach this machine and nothing else (pytest-socket, set in pyproject.toml)."""

import socket

import httpx
import pytest
from pytest_socket import SocketConnectBlockedError

from debitura.client import DebituraClient

# pytest-socket warns as it refuses; here the refusal is what is being tested.
blocked = pytest.mark.filterwarnings("ignore:A test tried to use socket.socket.connect")


@blocked
def test_a_request_to_an_outside_address_is_refused_before_it_leaves():
    # 192.0.2.1 is TEST-NET-1, never routed: without the block this is httpx's ConnectError.
    with pytest.raises(SocketConnectBlockedError, match=r"192\.0\.2\.1"), httpx.Client(timeout=2) as client:
        client.get("http://192.0.2.1/")


@blocked
def test_the_gateway_cannot_reach_an_outside_api_either():
    client = DebituraClient(base_url="https://192.0.2.1", api_key="k", timeout=2.0, retries=0)
    with pytest.raises(SocketConnectBlockedError):
        client.get_case("1")


@pytest.mark.parametrize(
    ("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")], ids=["ipv4", "ipv6"]
)
def test_loopback_stays_open(family, host):
    try:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind((host, 0))
    except OSError:
        pytest.skip(f"{host} is not configured on this machine")
    with server:
        server.listen(1)
        with socket.create_connection((host, server.getsockname()[1]), timeout=2):
            accepted, _ = server.accept()
            accepted.close()
