"""The Emulator: a WSGI app for Debitura's API plus the /_emulator/ control plane."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from . import ingestion, operations
from .api import DebituraApi
from .clock import Clock
from .control import ControlApi
from .delivery import Deliver, HttpDeliverer, attempt
from .errors import ApiError, not_found
from .faults import DroppedResponse, FaultConfig, Faults, SimulatedTimeout
from .files import FileLinks
from .http import Request, Response, error_response, json_response
from .idempotency import IdempotencyStore
from .managed import ManagedCasesApi
from .model import DISPUTED, NOT_DISPUTED, Case, Chat, Payment, User
from .names import CREDITOR_MESSAGES
from .ratelimit import RateLimiter, RateLimits
from .seed import anchor_for, build_world
from .state import State
from .testops import TestCasesApi

# Set by server.py: timeouts then sleep and answer instead of raising SimulatedTimeout.
SERVER_MODE_KEY = "debitura.emulator.server"

StartResponse = Callable[..., Any]


@dataclass
class RequestRecord:
    """One API request as the emulator saw it (control-plane calls are not recorded)."""

    method: str
    template: str | None
    path: str
    query: str
    status: int
    body: Any
    idempotency_key: str | None
    time: datetime
    fault: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "template": self.template,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "body": self.body,
            "idempotencyKey": self.idempotency_key,
            "time": self.time.isoformat(),
            "fault": self.fault,
        }


class EmulatorTransport(httpx.BaseTransport):
    """In-process transport that turns injected faults into the errors a socket would give."""

    def __init__(self, app: Emulator) -> None:
        self._inner = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except DroppedResponse as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc
        except SimulatedTimeout as exc:
            raise httpx.ReadTimeout(
                "The emulator held the response past the client's timeout.", request=request
            ) from exc


def _problem(request: Request) -> Response:
    problem = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Missing or invalid API key. Send it in the XApiKey header.",
        "instance": request.path,
    }
    return Response(
        401, json.dumps(problem).encode(), {"Content-Type": "application/problem+json; charset=utf-8"}
    )


def _too_many(retry_after: float, message: str) -> Response:
    body = {"error": "rate_limit_exceeded", "message": message, "retryAfter": round(retry_after, 1)}
    return json_response(429, body, {"Retry-After": str(max(1, math.ceil(retry_after)))})


class Emulator:
    """A stateful, spec-faithful stand-in for Debitura's Collection Partner API (a WSGI callable)."""

    def __init__(
        self,
        cases: int = 50,
        seed: int = 42,
        api_key: str = "demo-api-key",
        *,
        rate_limits: RateLimits | None = None,
        deliver: Deliver | None = None,
        today: datetime | None = None,
        team: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.case_count = cases
        self.seed = seed
        self.api_key = api_key
        self.anchor = anchor_for(today)
        self.deliver = deliver
        self.clock = Clock()
        self.faults = Faults()
        self.default_rate_limits = rate_limits or RateLimits()
        self.rate_limiter = RateLimiter(RateLimits(**vars(self.default_rate_limits)))
        self.idempotency = IdempotencyStore()
        self.request_log: list[RequestRecord] = []
        self._counts: Counter[str] = Counter()
        self._log_lock = threading.Lock()
        self._deliverer: HttpDeliverer | None = None
        self.file_links = FileLinks(
            hashlib.sha256(f"emulator-file-links-{seed}".encode()).digest(), self.clock.time
        )
        # (name, email) of team members besides the seeded ones, e.g. the portal's demo users;
        # part of the starting state, so reset() brings them back.
        self.team = list(team)
        self.state = self._seeded_state()
        self.ingestion_rows_per_poll = ingestion.ROWS_PER_POLL
        self.api = DebituraApi(self)
        # Operations kept in their own modules join the same router.
        for extension in (
            ManagedCasesApi(self.api),
            ingestion.IngestionApi(self.api),
            TestCasesApi(self.api),
        ):
            self.api.extend(extension.route_table, extension)
        self.control = ControlApi(self)
        ingestion.control.bind_into(self.control.router, ingestion.IngestionControl(self.api))

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        if request.path.startswith("/_emulator/"):
            response = self.control.handle(request)
        else:
            response = self._api_call(request)
        headers = [*response.headers.items(), ("Content-Length", str(len(response.body)))]
        start_response(response.status_line, headers)
        return [response.body]

    def _api_call(self, request: Request) -> Response:
        route, template, request.params = self.api.router.match(request.method, request.path)
        request.template = template
        decision = None
        try:
            if request.headers.get("xapikey") != self.api_key:
                response = _problem(request)
            elif (wait := self.rate_limiter.check(request.headers["xapikey"], self.clock.time())) is not None:
                response = _too_many(
                    wait, "API rate limit exceeded for this key; retry after the indicated delay."
                )
            else:
                decision = self.faults.decide(request.method, template)
                request.latency_ms = decision.latency_ms
                if decision.kind == "429":
                    response = _too_many(1.0, "Rate limit burst (injected by the emulator).")
                elif decision.kind == "500":
                    raise ApiError(500, "Internal server error (injected by the emulator).", "InternalError")
                elif decision.kind == "refuse":
                    # 400: the one refusal every operation documents.
                    raise ApiError(
                        400,
                        "This operation is refused (a fault injected by the emulator).",
                        "InjectedRefusal",
                    )
                elif route is None:
                    raise not_found(
                        f"{request.method} {request.path} is not an operation this emulator serves."
                    )
                else:
                    response = route.handler(request)
                    request.pause()
        except ApiError as error:
            response = error_response(error)
        fault = decision.kind if decision and decision.kind in ("timeout", "drop") else None
        self._record(request, response, fault)
        self._dispatch_webhooks()
        if fault == "drop":
            raise DroppedResponse(f"{request.method} {request.path}")
        if fault == "timeout":
            if not request.environ.get(SERVER_MODE_KEY):
                raise SimulatedTimeout(f"{request.method} {request.path}")
            time.sleep(self.faults.config.timeout_seconds)
        return response

    def _record(self, request: Request, response: Response, fault: str | None) -> None:
        try:
            body = (
                json.loads(request.body)
                if request.body and "json" in request.headers.get("content-type", "")
                else None
            )
        except ValueError:
            body = None
        record = RequestRecord(
            method=request.method,
            template=request.template,
            path=request.path,
            query=request.environ.get("QUERY_STRING", ""),
            status=response.status,
            body=body,
            idempotency_key=request.headers.get("idempotency-key"),
            time=self.clock.now(),
            fault=fault,
        )
        with self._log_lock:
            self.request_log.append(record)
            self._counts[f"{request.method} {request.template or request.path}"] += 1

    # -- webhooks ------------------------------------------------------------------------------
    def _dispatch_webhooks(self) -> None:
        for delivery in self.state.take_outbox():
            if self.deliver is not None:
                attempt(self.deliver, delivery, self.state.record_attempt)
            elif self._deliverer is not None:
                self._deliverer.submit(delivery)

    def start_delivery(self) -> None:
        """Deliver webhooks over HTTP from a background thread (server mode, no `deliver` given)."""
        if self.deliver is None and self._deliverer is None:
            self._deliverer = HttpDeliverer(lambda d, s, e: self.state.record_attempt(d, s, e))

    def stop_delivery(self) -> None:
        if self._deliverer is not None:
            self._deliverer.close()
            self._deliverer = None

    # -- in-process helpers --------------------------------------------------------------------
    def transport(self) -> httpx.BaseTransport:
        """An httpx transport serving this emulator in-process."""
        return EmulatorTransport(self)

    def stats(self) -> dict[str, dict[str, int]]:
        """Request counts keyed by method and spec path template."""
        with self._log_lock:
            return {"requests": dict(self._counts)}

    def requests(
        self, *, method: str | None = None, template: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        """The request log, filtered."""
        with self._log_lock:
            records = list(self.request_log)
        return [
            r
            for r in records
            if (method is None or r.method == method.upper())
            and (template is None or r.template == template)
            and (status is None or r.status == status)
        ]

    def reset(self) -> None:
        """Back to the seeded state: data, log, faults, limits, idempotency keys and clock."""
        state = self._seeded_state()
        with self.state.lock:
            self.state = state
        with self._log_lock:
            self.request_log.clear()
            self._counts.clear()
        self.faults.configure(FaultConfig())
        self.rate_limiter.limits = RateLimits(**vars(self.default_rate_limits))
        self.rate_limiter.reset()
        self.idempotency = IdempotencyStore()
        self.ingestion_rows_per_poll = ingestion.ROWS_PER_POLL
        self.clock.offset = 0.0

    def _seeded_state(self) -> State:
        state = State(build_world(self.seed, self.case_count, self.anchor), self.clock)
        for name, email in self.team:
            operations.team_member_add(state, email=email, name=name)
        return state

    # -- behaviour over time (mirrors the control endpoints) ------------------------------------
    def team_member_add(self, *, email: Any, name: Any = None) -> User:
        """The agency adds someone to its team at Debitura: from now on they may start cases and chat.

        `email` and `name` are checked here (400 when they are not text), as they come from JSON.
        """
        with self.state.lock:
            return operations.team_member_add(self.state, email=email, name=name)

    def new_assignment(
        self,
        *,
        count: int = 1,
        claim_type: str | None = None,
        disputed: bool | None = None,
        is_test: bool = False,
    ) -> list[Case]:
        """New cases arrive in Pending Verification (fires case.assigned)."""
        dispute = None if disputed is None else (DISPUTED if disputed else NOT_DISPUTED)
        with self.state.lock:
            cases = [
                operations.case_assign(self.state, claim_type=claim_type, dispute=dispute, is_test=is_test)
                for _ in range(count)
            ]
        self._dispatch_webhooks()
        return cases

    def creditor_message(self, case_id: str, message: str | None = None) -> Chat:
        """The creditor writes in the case chat (fires chat.created)."""
        with self.state.lock:
            case = self.state.case(case_id)
            text = message or self.state.seeder.rng.choice(CREDITOR_MESSAGES)
            chat = operations.creditor_message(self.state, case, text)
        self._dispatch_webhooks()
        return chat

    def withdraw(self, case_id: str) -> Case:
        """The creditor withdraws the case: closed as WithdrawnByClient (fires case.closed)."""
        with self.state.lock:
            case = self.state.case(case_id)
            operations.creditor_withdraw(self.state, case)
        self._dispatch_webhooks()
        return case

    def merge(self, case_id: str, *, into: str | None = None) -> Case:
        """Debitura merges the case into another (default: another case of the creditor)."""
        with self.state.lock:
            case = self.state.case(case_id)
            if into is not None:
                target = self.state.case(into)
            else:
                candidates = [
                    c for c in self.state.cases.values() if c.creditor is case.creditor and c is not case
                ]
                target = (
                    candidates[0]
                    if candidates
                    else next(c for c in self.state.cases.values() if c is not case)
                )
            operations.case_merge(self.state, case, target)
        self._dispatch_webhooks()
        return case

    def invoice_payment(self, payment_id: str) -> Payment:
        """Debitura invoices the payment's payout: from now on it is frozen (422 on edit/delete)."""
        with self.state.lock:
            payment = self.state.payments.get(payment_id.lower())
            if payment is None:
                raise not_found("Payment not found.")
            payment.invoiced = True
            return payment

    def touch(self, count: int = 25) -> list[Case]:
        """Change `count` production cases (fresh dateUpdated), for incremental-sync tests."""
        with self.state.lock:
            pool = [c for c in self.state.cases.values() if not c.is_test and c.lifecycle != "Merged"]
            chosen = self.state.seeder.rng.sample(pool, min(count, len(pool)))
            for variant, case in enumerate(chosen):
                operations.case_change(self.state, case, variant)
            return chosen

    def set_faults(self, **settings: Any) -> FaultConfig:
        """Replace the fault configuration (see FaultConfig for the names)."""
        config = FaultConfig(**settings)
        self.faults.configure(config)
        return config

    def clear_faults(self) -> None:
        self.faults.configure(FaultConfig())

    def set_rate_limits(self, *, per_minute: int, per_hour: int, per_day: int) -> None:
        self.rate_limiter.limits = RateLimits(per_minute, per_hour, per_day)
        self.rate_limiter.reset()

    def set_clock_offset(self, seconds: float) -> None:
        self.clock.offset = float(seconds)

    def advance_clock(self, seconds: float) -> None:
        self.clock.offset += float(seconds)
