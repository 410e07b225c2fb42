"""Validation of requests and responses against Debitura's published OpenAPI spec.

The spec lives in ../shared (it is Debitura's document, not ours, so it is not committed).
Tests call `validate_response` / `validate_request`; `contract_hooks` plugs both into an
httpx client so every exchange in a test is checked.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

_SPEC_IN_SHARED = Path("shared", "debitura", "collection-partner-api.openapi.json")


def spec_path(start: Path = Path(__file__)) -> Path:
    """DEBITURA_OPENAPI_SPEC, else shared/debitura/... in the nearest folder above the checkout.

    A git worktree (/work/wt/<branch>) sits a level deeper than the main checkout (/work/main),
    so "../shared" alone is not enough.
    """
    if configured := os.environ.get("DEBITURA_OPENAPI_SPEC"):
        return Path(configured)
    above = start.resolve().parents[2:]
    return next(
        (folder / _SPEC_IN_SHARED for folder in above if (folder / _SPEC_IN_SHARED).exists()),
        above[0] / _SPEC_IN_SHARED,
    )


SPEC_PATH = spec_path()


class ContractViolation(AssertionError):
    """A request or response does not match the spec."""


@cache
def spec() -> dict[str, Any]:
    """The parsed spec; skips the test (fails in CI) when the shared file is absent."""
    if not SPEC_PATH.exists():
        message = f"Debitura's OpenAPI spec is not at {SPEC_PATH} (set DEBITURA_OPENAPI_SPEC)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    compiled = []
    for template in spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        compiled.append((re.compile(pattern), template))
    # Literal segments beat parameters: /cases/case-reference/{x} before /cases/{id}/{...}.
    compiled.sort(key=lambda item: item[1].count("{"))
    return compiled


def path_template(path: str) -> str:
    """The spec's path template for a concrete path, e.g. /cases/{id} for /cases/<uuid>."""
    for pattern, template in _templates():
        if pattern.match(path):
            return template
    raise ContractViolation(f"{path} is not a path in the spec.")


def operation(method: str, path: str) -> dict[str, Any]:
    """The spec's operation object for a method and a concrete or template path."""
    template = path if path in spec()["paths"] else path_template(path)
    try:
        return spec()["paths"][template][method.lower()]
    except KeyError:
        raise ContractViolation(f"{method.upper()} {template} is not an operation in the spec.") from None


def _validate(schema: dict[str, Any], instance: Any, where: str) -> None:
    # Embedding the components lets the schema's "#/components/..." references resolve.
    document = {**schema, "components": spec()["components"]}
    validator = OAS30Validator(document, format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:5]
        )
        raise ContractViolation(f"{where}: {details}")


_ERROR_SCHEMA: dict[str, Any] = {
    "$ref": "#/components/schemas/Debitura.Web.ExternalApi.Contracts.V1.Errors.ApiErrorResponseDto"
}
_PROBLEM_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/Microsoft.AspNetCore.Mvc.ProblemDetails"}
# API-NOTES: the 429 body every operation may answer, though the spec lists it nowhere.
_RATE_LIMIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message", "retryAfter"],
    "properties": {
        "error": {"enum": ["rate_limit_exceeded"]},
        "message": {"type": "string"},
        "retryAfter": {"type": "number"},
    },
    "additionalProperties": False,
}
# Answers any operation can give whatever its own list says: the gateway (401 problem details,
# 429 rate limit) and the server failing (5xx with the usual error body).
_UNDOCUMENTED: dict[int, dict[str, Any]] = {401: _PROBLEM_SCHEMA, 429: _RATE_LIMIT_SCHEMA}


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Fail unless `status` is documented for the operation and `body` matches its schema.

    401, 429 and 5xx may come from any operation (API-NOTES); their bodies are still checked.
    """
    op = operation(method, path)
    responses = op.get("responses", {})
    documented = responses.get(str(status))
    if documented is None and (status in _UNDOCUMENTED or status >= 500):
        if body is not None:
            _validate(
                _UNDOCUMENTED.get(status, _ERROR_SCHEMA), body, f"{method.upper()} {path} {status} response"
            )
        return
    if documented is None:
        raise ContractViolation(
            f"{method.upper()} {path} answered {status}, which the spec does not list ({sorted(responses)})."
        )
    content = documented.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    if media and "schema" in media and body is not None:
        _validate(media["schema"], body, f"{method.upper()} {path} {status} response")


def validate_request(method: str, path: str, body: Any) -> None:
    """Fail unless a JSON request body matches the operation's request schema."""
    op = operation(method, path)
    content = (op.get("requestBody") or {}).get("content") or {}
    media = content.get("application/json")
    if media is None:
        if body is not None and content and "multipart/form-data" not in content:
            raise ContractViolation(f"{method.upper()} {path} takes no JSON body.")
        return
    _validate(media["schema"], body, f"{method.upper()} {path} request")


def _json_or_none(raw: bytes, content_type: str) -> Any:
    if not raw or "json" not in content_type:
        return None
    return json.loads(raw)


def contract_hooks() -> dict[str, list[Callable[..., None]]]:
    """httpx event hooks that validate every request sent and every response received.

    Paths under /_emulator/ (the emulator's control plane) are not Debitura's and are skipped.
    The spec is read here, in the caller's thread: a missing spec then skips (or, in CI, fails)
    the test at once, instead of surfacing as a 500 from a live server thread that the browser
    waits on until it times out.
    """
    spec()

    def on_request(request: httpx.Request) -> None:
        if request.url.path.startswith("/_emulator/"):
            return
        content_type = request.headers.get("content-type", "")
        # Only JSON bodies are read here: reading a streamed multipart upload would consume it.
        body = _json_or_none(request.read(), content_type) if "json" in content_type else None
        validate_request(request.method, request.url.path, body)

    def on_response(response: httpx.Response) -> None:
        if response.request.url.path.startswith("/_emulator/"):
            return
        response.read()
        validate_response(
            response.request.method,
            response.request.url.path,
            response.status_code,
            _json_or_none(response.content, response.headers.get("content-type", "")),
        )

    return {"request": [on_request], "response": [on_response]}
