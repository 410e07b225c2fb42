"""The embedded Celery broker (file system): a worker never reads a message that is still being written."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.conf import settings
from kombu import Connection
from kombu.transport.virtual import Empty

from partnerportal.broker import Transport

MESSAGES = 10
# Slow to serialise (kombu's encoder turns each UUID into JSON in Python), so that each message
# takes a while from its first byte to its last.
BODY = [uuid.uuid4() for _ in range(20_000)]


def channel(folder: Any) -> Any:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    return Connection(transport=Transport, transport_options=options).default_channel


def test_a_consumer_polling_while_messages_are_written_reads_each_one_whole(tmp_path):
    producer, consumer = channel(tmp_path), channel(tmp_path)
    received: list[Any] = []
    failures: list[BaseException] = []
    written = threading.Event()

    def produce() -> None:
        for n in range(MESSAGES):
            producer._put("tasks", {"n": n, "body": BODY})
        written.set()

    def consume() -> None:
        # As a worker polls: as fast as it can, until every message has come.
        while len(received) < MESSAGES and not failures:
            try:
                received.append(consumer._get("tasks"))
            except Empty:
                if written.is_set() and not any(tmp_path.glob("*.msg")):
                    return
            except Exception as exc:  # a half-written message: JSONDecodeError, say
                failures.append(exc)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sorted(message["n"] for message in received) == list(range(MESSAGES))
    assert all(message["body"] == BODY for message in received)


def test_the_portals_celery_app_uses_it_for_the_file_system_broker():
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the suite runs against another broker")
    from partnerportal.celery import app

    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
