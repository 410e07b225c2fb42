"""Just enough HTTP for the emulator: a parsed request, a response, a router over path templates."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from .errors import ApiError, bad_request

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


@dataclass
class Response:
    """Status, headers and the body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status_line(self) -> str:
        return f"{self.status} {_STATUS_TEXT.get(self.status, 'Unknown')}"

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def raw_json_response(status: int, body: bytes) -> Response:
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8"})


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), error.headers)


@dataclass
class UploadedFile:
    """One file part of a multipart/form-data body."""

    file_name: str
    content: bytes


@dataclass
class Request:
    """A WSGI request, read once; query names are matched case-insensitively as ASP.NET does."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    environ: dict[str, Any]
    template: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    latency_ms: int = 0
    _paused: bool = False

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        raw_query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for name, values in raw_query.items():
            query.setdefault(name.lower(), []).extend(values)
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        return cls(environ["REQUEST_METHOD"].upper(), path, query, headers, body, environ)

    @property
    def base_url(self) -> str:
        host = self.environ.get("HTTP_HOST") or f"{self.environ['SERVER_NAME']}:{self.environ['SERVER_PORT']}"
        return f"{self.environ.get('wsgi.url_scheme', 'http')}://{host}"

    def pause(self) -> None:
        """Apply the configured latency once, wherever the handler chooses ("while in flight")."""
        if self.latency_ms and not self._paused:
            self._paused = True
            time.sleep(self.latency_ms / 1000)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name.lower())
        return values[-1] if values else None

    def args(self, name: str) -> list[str] | None:
        """An array parameter sent repeated (Ids=a&Ids=b) or comma-separated (Ids=a,b)."""
        values = self.query.get(name.lower())
        if values is None:
            return None
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def int_arg(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer.", "InvalidParameter") from None
        if not minimum <= value <= maximum:
            raise bad_request(f"{name} must be between {minimum} and {maximum}.", "InvalidParameter")
        return value

    def bool_arg(self, name: str, default: bool = False) -> bool:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise bad_request(f"{name} must be true or false.", "InvalidParameter")

    def json(self) -> dict[str, Any]:
        """The JSON object body; 400 when it is missing, malformed or not an object."""
        try:
            payload = json.loads(self.body or b"null")
        except ValueError:
            raise bad_request("The request body is not valid JSON.", "InvalidBody") from None
        if not isinstance(payload, dict):
            raise bad_request("The request body must be a JSON object.", "InvalidBody")
        return payload

    def form(self) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        """Fields and files of a multipart/form-data body."""
        content_type = self.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise bad_request("Expected a multipart/form-data body.", "InvalidBody")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body
        )
        fields: dict[str, str] = {}
        files: dict[str, UploadedFile] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            file_name = part.get_filename()
            if file_name is not None:
                files[name] = UploadedFile(file_name, content)
            else:
                fields[name] = content.decode("utf-8", "replace")
        return fields, files


Handler = Callable[[Request], Response]


@dataclass
class Route:
    """A method and a spec path template bound to a handler."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]


class Router:
    """Matches concrete paths to templates; literal segments win over parameters."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.routes.append(Route(method, template, handler, re.compile(f"^{regex}$")))
        self.routes.sort(key=lambda r: (r.template.count("{"), -len(r.template)))

    def match(self, method: str, path: str) -> tuple[Route | None, str | None, dict[str, str]]:
        """(route, template, params); a template without a route means the method is not allowed."""
        template = None
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                template = template or route.template
                if route.method == method:
                    return route, route.template, found.groupdict()
        return None, template, {}


class RouteTable:
    """Handlers declared on a class with a decorator, bound to an instance as a Router."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.entries: list[tuple[str, str, str]] = []

    def __call__(
        self, method: str, template: str
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def register(function: Callable[..., Response]) -> Callable[..., Response]:
            self.entries.append((method, self.prefix + template, function.__name__))
            return function

        return register

    def bind(self, owner: object) -> Router:
        return self.bind_into(Router(), owner)

    def bind_into(self, router: Router, owner: object) -> Router:
        """Add this table's handlers, bound to `owner`, to an existing router."""
        for method, template, name in self.entries:
            router.add(method, template, getattr(owner, name))
        return router
