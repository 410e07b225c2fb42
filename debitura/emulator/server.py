"""Serving the emulator over HTTP: a threaded wsgiref server that can drop connections on purpose."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import SERVER_MODE_KEY, Emulator
from .faults import DroppedResponse

logger = logging.getLogger(__name__)


class _Handler(ServerHandler):
    dropped = False

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DroppedResponse):
            # The effect is applied; now vanish without a status line, as a crashed server would.
            self.dropped = True
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    quiet = True

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    def handle(self) -> None:
        # wsgiref's handle() without the parts we do not need, plus the dropped-response path.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        environ[SERVER_MODE_KEY] = True
        handler = _Handler(self.rfile, self.wfile, self.get_stderr(), environ, multithread=True)  # type: ignore[arg-type]
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.dropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class EmulatorServer:
    """The emulator served on host:port in a background thread (tests) or the foreground (command)."""

    def __init__(
        self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
    ) -> None:
        self.emulator = emulator
        handler = type("RequestHandler", (_RequestHandler,), {"quiet": not access_log})
        self.httpd = ThreadingWSGIServer((host, port), handler)
        self.httpd.set_app(emulator)
        address = self.httpd.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Serve from a daemon thread and deliver webhooks in the background."""
        self.emulator.start_delivery()
        # A short poll keeps shutdown (after every test that uses the server) quick.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="emulator-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.emulator.start_delivery()
        try:
            self.httpd.serve_forever()
        finally:
            self.close()

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
        self.emulator.stop_delivery()
