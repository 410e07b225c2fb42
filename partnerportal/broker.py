"""kombu's file-system transport (the embedded Celery broker), with messages written whole.

kombu creates a message's file under its final name and writes it afterwards, and a consumer
takes any file with that name: one that looks while the producer is between the two reads an
empty or cut-off message, and the worker stops with "Unrecoverable error: JSONDecodeError"
(celery/kombu#1551; on `make demo` within minutes). Here a message is written under a name
consumers skip and renamed into place once complete: a rename within one folder is atomic.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    """kombu's channel, putting each message in place in one step."""

    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]  # as kombu's own
        # kombu's own naming (consumers take the oldest first and match "<name>.<queue>.msg").
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot and a trailing suffix: consumers match neither while it is being written.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    """The file-system transport with Channel's whole writes (CELERY_BROKER_TRANSPORT)."""

    Channel = Channel
