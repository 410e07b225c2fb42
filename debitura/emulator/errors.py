"""Errors the emulator answers with, in Debitura's `{error, message, businessErrors}` shape."""

from __future__ import annotations

from typing import Any

SOLUTION_BASE = "https://docs.debitura.com/collection-partners/errors#"

_ERROR_NAMES = {
    400: "validation_error",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "business_rule_violation",
    500: "internal_server_error",
}


class ApiError(Exception):
    """A refusal; `kind` becomes the businessErrors type, `body` overrides the standard shape."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str | None = None,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        details: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.custom_body = body
        self.headers = headers or {}
        self.details = details or ([(kind, message)] if kind else [])

    def body(self) -> dict[str, Any]:
        if self.custom_body is not None:
            return self.custom_body
        # A field-by-field refusal lists one businessErrors entry per field, each naming it.
        errors = [
            {"type": kind, "message": message, "solutionUrl": SOLUTION_BASE + kind}
            for kind, message in self.details
        ]
        return {
            "error": _ERROR_NAMES.get(self.status, "error"),
            "message": self.message,
            "businessErrors": errors,
        }


def bad_request(message: str, kind: str = "ValidationError") -> ApiError:
    return ApiError(400, message, kind)


def not_found(message: str = "Not found.") -> ApiError:
    return ApiError(404, message, "NotFound")
