"""Streaming a file from one of Debitura's signed links: only links the gateway may follow."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest

from debitura.client import DebituraClient
from debitura.emulator import Emulator
from debitura.errors import LinkRefused
from debitura.throttle import NoThrottle
from tests.fixtures.gateway import make_client


def a_case_with_files(emulator: Emulator) -> str:
    return next(c.id for c in emulator.state.cases.values() if c.files and c.lifecycle != "Merged")


def test_a_listed_file_streams_byte_for_byte(debitura_client: DebituraClient, emulator: Emulator) -> None:
    case_id = a_case_with_files(emulator)
    content = b"%PDF-1.7\n" + bytes(range(256)) * 1000
    uploaded = debitura_client.upload_file(case_id, io.BytesIO(content), file_name="proof.pdf")
    link = next(f.url for f in debitura_client.list_files(case_id) if f.id == uploaded.id)
    assert link is not None

    download = debitura_client.open_file_download(link)
    try:
        received = b"".join(download)
    finally:
        download.close()

    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(content).hexdigest()
    assert download.size == len(content)
    assert download.content_type == "application/pdf"


def test_an_expired_link_is_refused_as_such(debitura_client: DebituraClient, emulator: Emulator) -> None:
    link = debitura_client.list_files(a_case_with_files(emulator))[0].url
    assert link is not None
    emulator.advance_clock(timedelta(hours=2).total_seconds())

    with pytest.raises(LinkRefused) as refused:
        debitura_client.open_file_download(link)

    assert refused.value.status == 403


@pytest.mark.parametrize(
    "link",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8765/_emulator/files/x",
        "https://debitura.test/_emulator/files/x",  # another scheme than the API's
        "http://debitura.test:8080/_emulator/files/x",  # another port
        "http://user:pw@debitura.test/_emulator/files/x",
        "file:///etc/passwd",
        "https://evil-blob.example.net/file.pdf",
        "not a url at all",
    ],
)
def test_links_to_other_places_are_refused_before_any_request(link: str) -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent, yet {request.url} was")

    client = make_client(httpx.MockTransport(transport), file_hosts=[".blob.example.net"])

    with pytest.raises(LinkRefused, match=r"neither Debitura's API nor a configured file host|not a URL"):
        client.open_file_download(link)


def test_a_configured_file_host_is_followed_over_https_without_the_api_key() -> None:
    seen: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"%PDF-1.4", headers={"Content-Type": "application/pdf"})

    # No contract hooks: the file host is not Debitura's API.
    client = make_client(httpx.MockTransport(transport), file_hosts=[".blob.example.net"], event_hooks={})
    download = client.open_file_download("https://acct.blob.example.net/c/f.pdf?sig=abc")
    assert b"".join(download) == b"%PDF-1.4"
    download.close()

    assert [str(r.url) for r in seen] == ["https://acct.blob.example.net/c/f.pdf?sig=abc"]
    assert "XApiKey" not in seen[0].headers


def test_a_redirect_is_not_followed() -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    client = make_client(httpx.MockTransport(transport), event_hooks={})

    with pytest.raises(LinkRefused, match="redirects"):
        client.open_file_download("http://debitura.test/_emulator/files/x")


def test_a_compressed_answer_has_no_size_and_streams_decoded() -> None:
    import gzip

    def transport(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=gzip.compress(b"a,b\n" * 100), headers={"Content-Encoding": "gzip"}
        )

    client = make_client(httpx.MockTransport(transport), event_hooks={})
    download = client.open_file_download("http://debitura.test/_emulator/files/x?sig=1")

    assert download.size is None
    assert b"".join(download) == b"a,b\n" * 100
    download.close()


def test_a_file_streams_over_loopback_from_the_emulator_server(emulator_server: Any) -> None:
    case_id = a_case_with_files(emulator_server.emulator)
    with DebituraClient(emulator_server.url, "test-api-key", throttle=NoThrottle()) as client:
        listed = client.list_files(case_id)[0]
        assert listed.url is not None
        download = client.open_file_download(listed.url)
        try:
            received = b"".join(download)
        finally:
            download.close()

    stored = emulator_server.emulator.state.files[listed.id].content
    assert received == stored
