"""The /_emulator/ control plane: no API key, no faults, JSON in and out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import dto
from .errors import ApiError, bad_request, not_found
from .faults import FaultConfig
from .files import CONTENT_TYPES, DOWNLOAD_PREFIX, extension
from .http import Request, Response, RouteTable, error_response, json_response
from .model import LIFECYCLES, Case

if TYPE_CHECKING:
    from .app import Emulator

control = RouteTable("/_emulator")


def _number(payload: dict[str, Any], name: str, default: float) -> float:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"{name} must be a number.")
    return float(value)


def _count(payload: dict[str, Any], name: str, default: int) -> int:
    value = _number(payload, name, default)
    if value < 0 or value != int(value):
        raise bad_request(f"{name} must be a non-negative integer.")
    return int(value)


class ControlApi:
    """Endpoints that drive the emulator from outside: time, faults, creditor behaviour, stats."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.router = control.bind(self)

    def handle(self, request: Request) -> Response:
        route, template, request.params = self.router.match(request.method, request.path)
        request.template = template
        try:
            if route is None:
                raise not_found(f"No control endpoint {request.method} {request.path}.")
            response = route.handler(request)
        except ApiError as error:
            return error_response(error)
        self.emulator._dispatch_webhooks()
        return response

    def body(self, request: Request) -> dict[str, Any]:
        return request.json() if request.body.strip() else {}

    # -- introspection -------------------------------------------------------------------------
    @control("GET", "/health")
    def health(self, request: Request) -> Response:
        return json_response(
            200, {"status": "ok", "cases": len(self.emulator.state.cases), "seed": self.emulator.seed}
        )

    @control("GET", "/stats")
    def stats(self, request: Request) -> Response:
        return json_response(200, self.emulator.stats())

    @control("GET", "/requests")
    def requests(self, request: Request) -> Response:
        status = request.arg("status")
        records = self.emulator.requests(
            method=request.arg("method"),
            template=request.arg("template"),
            status=int(status) if status and status.isdigit() else None,
        )
        limit = request.int_arg("limit", 1000, minimum=1, maximum=1_000_000)
        return json_response(200, [r.as_json() for r in records[-limit:]])

    # -- configuration -------------------------------------------------------------------------
    @control("POST", "/reset")
    def reset(self, request: Request) -> Response:
        self.emulator.reset()
        return json_response(200, {"status": "reset", "cases": len(self.emulator.state.cases)})

    @control("GET", "/faults")
    def get_faults(self, request: Request) -> Response:
        return json_response(200, self.emulator.faults.config.as_json())

    @control("POST", "/faults")
    def set_faults(self, request: Request) -> Response:
        payload = self.body(request)
        unknown = set(payload) - set(FaultConfig.JSON_NAMES)
        if unknown:
            raise bad_request(f"Unknown fault settings: {', '.join(sorted(unknown))}.")
        try:
            config = self.emulator.set_faults(**{FaultConfig.JSON_NAMES[k]: v for k, v in payload.items()})
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from None
        return json_response(200, config.as_json())

    @control("DELETE", "/faults")
    def clear_faults(self, request: Request) -> Response:
        self.emulator.clear_faults()
        return json_response(200, self.emulator.faults.config.as_json())

    @control("POST", "/rate-limits")
    def set_rate_limits(self, request: Request) -> Response:
        payload = self.body(request)
        current = self.emulator.rate_limiter.limits
        self.emulator.set_rate_limits(
            per_minute=_count(payload, "perMinute", current.per_minute),
            per_hour=_count(payload, "perHour", current.per_hour),
            per_day=_count(payload, "perDay", current.per_day),
        )
        limits = self.emulator.rate_limiter.limits
        return json_response(
            200, {"perMinute": limits.per_minute, "perHour": limits.per_hour, "perDay": limits.per_day}
        )

    @control("GET", "/clock")
    def get_clock(self, request: Request) -> Response:
        clock = self.emulator.clock
        return json_response(200, {"now": dto.stamp(clock.now()), "offsetSeconds": clock.offset})

    @control("POST", "/clock")
    def set_clock(self, request: Request) -> Response:
        payload = self.body(request)
        if "offsetSeconds" in payload:
            self.emulator.set_clock_offset(_number(payload, "offsetSeconds", 0))
        if "advanceSeconds" in payload:
            self.emulator.advance_clock(_number(payload, "advanceSeconds", 0))
        return self.get_clock(request)

    # -- what happens at Debitura and on the creditor's side ------------------------------------
    @control("POST", "/team")
    def team_member_add(self, request: Request) -> Response:
        payload = self.body(request)
        member = self.emulator.team_member_add(email=payload.get("email"), name=payload.get("name"))
        return json_response(201, dto.user(member))

    @control("POST", "/assignments")
    def new_assignment(self, request: Request) -> Response:
        payload = self.body(request)
        cases = self.emulator.new_assignment(
            count=_count(payload, "count", 1),
            claim_type=payload.get("claimType"),
            disputed=payload.get("disputed"),
            is_test=bool(payload.get("isTest", False)),
        )
        return json_response(201, {"cases": [_summary(c) for c in cases]})

    @control("POST", "/cases/{id}/creditor-message")
    def creditor_message(self, request: Request) -> Response:
        payload = self.body(request)
        chat = self.emulator.creditor_message(request.params["id"], payload.get("message"))
        return json_response(201, dto.chat(chat))

    @control("POST", "/cases/{id}/withdraw")
    def withdraw(self, request: Request) -> Response:
        return json_response(200, _summary(self.emulator.withdraw(request.params["id"])))

    @control("POST", "/cases/{id}/merge")
    def merge(self, request: Request) -> Response:
        payload = self.body(request)
        return json_response(
            200, _summary(self.emulator.merge(request.params["id"], into=payload.get("intoCaseId")))
        )

    @control("POST", "/payments/{id}/invoice")
    def invoice_payment(self, request: Request) -> Response:
        payment = self.emulator.invoice_payment(request.params["id"])
        return json_response(200, {"paymentId": payment.id, "caseId": payment.case_id, "invoiced": True})

    @control("POST", "/touch")
    def touch(self, request: Request) -> Response:
        payload = self.body(request)
        cases = self.emulator.touch(_count(payload, "count", 25))
        return json_response(200, {"cases": [_summary(c) for c in cases]})

    # -- signed file downloads -----------------------------------------------------------------
    @control("GET", DOWNLOAD_PREFIX.removeprefix("/_emulator") + "{fileId}")
    def download(self, request: Request) -> Response:
        file_id = request.params["fileId"]
        if not self.emulator.file_links.valid(file_id, request.arg("expires"), request.arg("sig")):
            raise ApiError(
                403,
                "The link is invalid or has expired; list the files again for a fresh one.",
                "LinkExpired",
            )
        with self.emulator.state.lock:
            stored = self.emulator.state.files.get(file_id)
        if stored is None:
            raise not_found("File not found.")
        content_type = CONTENT_TYPES.get(extension(stored.file_name), "application/octet-stream")
        # As a file host sends any name (RFC 6266): percent-encoded UTF-8, so a header stays ASCII
        # and a creditor's name with a line break or a letter like "ø" cannot break the response.
        disposition = f"attachment; filename*=UTF-8''{quote(stored.file_name, safe='')}"
        return Response(
            200, stored.content, {"Content-Type": content_type, "Content-Disposition": disposition}
        )


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "lifecycle": LIFECYCLES[case.lifecycle],
        "dateUpdated": dto.stamp(case.date_updated),
    }
