"""Handlers for Debitura's paths: parse and check the request, call the state, shape the answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import dto, operations, webhooks
from .errors import ApiError, bad_request, not_found
from .http import Request, Response, RouteTable, error_response, is_uuid, json_response, raw_json_response
from .model import LIFECYCLES, Case
from .state import SORT_FIELDS, CaseQuery

if TYPE_CHECKING:
    from .app import Emulator

route = RouteTable()
# Statuses accepted in either form, case-insensitively: "pendingverification", "pending verification".
_STATUS_NAMES = {key.lower(): key for key in LIFECYCLES} | {
    label.lower(): key for key, label in LIFECYCLES.items()
}
MAX_PARTNER_REFERENCES = 100


def uuid_param(value: str | None, name: str) -> str:
    if not value or not is_uuid(value):
        raise bad_request(f"{name} must be a GUID.", "InvalidParameter")
    return value.lower()


def uuid_args(request: Request, name: str) -> set[str] | None:
    values = request.args(name)
    return None if values is None else {uuid_param(value, name) for value in values}


def parse_sort(raw: str | None) -> list[tuple[str, bool]]:
    """ "Field[:asc|desc],..." over the documented fields; unknown fields are ignored."""
    sort = []
    for part in (raw or "").split(","):
        name, _, direction = part.strip().partition(":")
        key = name.strip().lower()
        if key in SORT_FIELDS:
            sort.append((key, direction.strip().lower() == "desc"))
    return sort or CaseQuery().sort


def case_query(request: Request, *, include_test_cases: bool) -> CaseQuery:
    """The paging, filters and sort of GET /cases and GET /managed-cases."""
    statuses = request.args("Statuses")
    lifecycles = None
    if statuses is not None:
        unknown = [s for s in statuses if s.lower() not in _STATUS_NAMES]
        if unknown:
            raise bad_request(f"Unknown status value(s): {', '.join(unknown)}.", "InvalidStatus")
        lifecycles = {_STATUS_NAMES[s.lower()] for s in statuses}
    return CaseQuery(
        page=request.int_arg("Page", 1, minimum=1, maximum=2**31 - 1),
        page_size=request.int_arg("PageSize", 10, minimum=1, maximum=100),
        ids=uuid_args(request, "Ids"),
        debtor_ids=uuid_args(request, "DebtorIds"),
        division_ids=uuid_args(request, "DivisionIds"),
        lifecycles=lifecycles,
        include_test_cases=include_test_cases,
        sort=parse_sort(request.arg("Sort")),
    )


class DebituraApi:
    """The operations the emulator implements, bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.router = route.bind(self)

    def extend(self, table: RouteTable, owner: object) -> None:
        """Serve the operations declared in another module's `table` (handlers bound to `owner`)."""
        table.bind_into(self.router, owner)

    @property
    def state(self) -> Any:
        return self.emulator.state

    def case_response(self, case: Case) -> Response:
        return raw_json_response(200, self.state.case_json(case))

    def path_case(self, request: Request) -> Case:
        return self.state.case(uuid_param(request.params.get("id"), "id"))

    # -- partner and team ----------------------------------------------------------------------
    @route("GET", "/me")
    def get_me(self, request: Request) -> Response:
        return json_response(200, dto.me(self.state.partner))

    @route("GET", "/users")
    def list_users(self, request: Request) -> Response:
        page = request.int_arg("Page", 1, minimum=1, maximum=2**31 - 1)
        size = request.int_arg("PageSize", 50, minimum=1, maximum=100)
        with self.state.lock:
            team = [u for u in self.state.users.values() if u.active]
        chunk = team[(page - 1) * size : page * size]
        return json_response(
            200,
            {"page": dto.page_data(len(team), page, size, len(chunk)), "users": [dto.user(u) for u in chunk]},
        )

    # -- cases ---------------------------------------------------------------------------------
    @route("GET", "/cases")
    def list_cases(self, request: Request) -> Response:
        query = case_query(request, include_test_cases=request.bool_arg("includeTestCases"))
        with self.state.lock:
            total, page = self.state.list_cases(query)
            return self.case_page(query, total, page)

    def case_page(self, query: CaseQuery, total: int, page: list[Case]) -> Response:
        """InvoiceListDto: the page data and the cases' serialised JSON joined (under the lock)."""
        cases = b",".join(self.state.case_json(c) for c in page)
        meta = dto.page_data(total, query.page, query.page_size, len(page))
        return raw_json_response(200, b'{"page":' + dto_bytes(meta) + b',"cases":[' + cases + b"]}")

    @route("GET", "/cases/{id}")
    def get_case(self, request: Request) -> Response:
        with self.state.lock:
            return self.case_response(self.path_case(request))

    @route("GET", "/cases/case-reference/{caseReference}")
    def get_case_by_reference(self, request: Request) -> Response:
        reference = request.params["caseReference"].strip()
        with self.state.lock:
            case = self.state.by_reference.get(reference.upper())
            if case is None:
                raise not_found("No case with this reference is assigned to you.")
            return self.case_response(case)

    @route("GET", "/cases/by-partner-reference/{reference}")
    def get_case_by_partner_reference(self, request: Request) -> Response:
        with self.state.lock:
            case = self.state.by_partner_reference.get(request.params["reference"])
            if case is None or case.is_test:
                raise not_found("No case found with this partner reference.")
            return self.case_response(case)

    @route("GET", "/cases/by-partner-reference")
    def get_cases_by_partner_references(self, request: Request) -> Response:
        references = request.args("references")
        if not references:
            raise bad_request(
                "references is required (comma-separated partner references).", "MissingParameter"
            )
        if len(references) > MAX_PARTNER_REFERENCES:
            raise bad_request(f"At most {MAX_PARTNER_REFERENCES} references per call.", "TooManyReferences")
        with self.state.lock:
            found = {ref: self.state.by_partner_reference.get(ref) for ref in references}
            parts = [
                dto_bytes(ref) + b":" + self.state.case_json(c)
                for ref, c in found.items()
                if c and not c.is_test
            ]
        return raw_json_response(200, b"{" + b",".join(parts) + b"}")

    @route("GET", "/cases/by-creditor-reference")
    def get_case_by_creditor_reference(self, request: Request) -> Response:
        reference = (request.arg("reference") or "").strip()
        if not reference:
            raise bad_request("reference is required.", "MissingParameter")
        creditor_id = uuid_param(request.arg("creditorId"), "creditorId")
        with self.state.lock:
            for case in self.state.cases.values():
                if (
                    case.creditor.id == creditor_id
                    and case.creditor_reference == reference
                    and not case.is_test
                ):
                    return self.case_response(case)
        raise not_found("No case found for this reference and creditor.")

    @route("GET", "/cases/{id}/timeline")
    def get_timeline(self, request: Request) -> Response:
        with self.state.lock:
            return json_response(200, dto.timeline(self.path_case(request)))

    @route("GET", "/cases/{id}/chats")
    def list_chats(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            return json_response(200, [dto.chat(m) for m in sorted(case.chats, key=lambda m: m.date_created)])

    @route("GET", "/cases/{id}/payments")
    def list_payments(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            newest_first = sorted(case.payments, key=lambda p: (p.date, p.date_created), reverse=True)
            return json_response(200, [dto.payment(p, case) for p in newest_first])

    @route("GET", "/cases/{id}/files")
    def list_files(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            files = list(case.files)
        signer = self.emulator.file_links
        return json_response(200, [dto.case_file(f, signer.url(request.base_url, f.id)) for f in files])

    @route("GET", "/cases/{id}/exclusive-period")
    def get_exclusive_period(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            if case.exclusive is None:
                raise not_found("No exclusive collection period exists for this case.")
            return json_response(200, dto.exclusive_period(case.exclusive, case, self.emulator.clock.now()))

    @route("GET", "/cases/{id}/validation")
    def get_validation(self, request: Request) -> Response:
        with self.state.lock:
            return json_response(200, dto.validation(self.path_case(request)))

    # -- changes -------------------------------------------------------------------------------
    def idempotent(self, request: Request, work: Callable[[], Response]) -> Response:
        """Run `work` once per Idempotency-Key and body; replays, conflicts and races per API-NOTES."""
        key = request.headers.get("idempotency-key")
        if key is None:
            return work()
        store = self.emulator.idempotency
        scope = f"{request.template}:{request.params.get('id', '').lower()}"
        replay = store.begin(scope, key, request.body, self.emulator.clock.time())
        if replay is not None:
            return replay
        response = None
        try:
            request.pause()  # injected latency lands while the key is in flight
            response = self.guarded(work)
        finally:
            store.finish(scope, key, response)
        return response

    @staticmethod
    def guarded(work: Callable[[], Response]) -> Response:
        try:
            return work()
        except ApiError as error:
            return error_response(error)

    def change(
        self, request: Request, operation: Callable[[Case, dict[str, Any]], Any], status: int = 200
    ) -> Response:
        """Apply `operation` to the path's case with the JSON body, under the state lock."""
        payload = request.json()
        with self.state.lock:
            result = operation(self.path_case(request), payload)
        return json_response(status, result)

    @route("POST", "/cases/{id}/start")
    def start_case(self, request: Request) -> Response:
        return self.change(request, lambda case, body: operations.case_start(self.state, case, body))

    @route("POST", "/cases/{id}/close")
    def close_case(self, request: Request) -> Response:
        return self.change(request, lambda case, body: operations.case_close(self.state, case, body))

    @route("PUT", "/cases/{id}/fees")
    def update_fees(self, request: Request) -> Response:
        return self.change(request, lambda case, body: operations.fees_update(self.state, case, body))

    @route("POST", "/cases/{id}/notes")
    def create_note(self, request: Request) -> Response:
        return self.change(request, lambda case, body: operations.note_create(self.state, case, body))

    @route("POST", "/cases/{id}/chats")
    def send_chat(self, request: Request) -> Response:
        return self.idempotent(
            request,
            lambda: self.change(request, lambda case, body: operations.chat_send(self.state, case, body)),
        )

    @route("POST", "/cases/{id}/payments")
    def create_payment(self, request: Request) -> Response:
        return self.idempotent(
            request,
            lambda: self.change(
                request, lambda case, body: operations.payment_create(self.state, case, body)
            ),
        )

    @route("PUT", "/cases/{id}/payments/{paymentId}")
    def update_payment(self, request: Request) -> Response:
        def update(case: Case, body: dict[str, Any]) -> Any:
            payment = operations.payment_of(
                self.state, case, uuid_param(request.params["paymentId"], "paymentId")
            )
            return operations.payment_update(self.state, case, payment, body)

        return self.change(request, update)

    @route("DELETE", "/cases/{id}/payments/{paymentId}")
    def delete_payment(self, request: Request) -> Response:
        reopen = request.bool_arg("reopenCaseIfNeeded")
        payment_id = uuid_param(request.params["paymentId"], "paymentId")
        with self.state.lock:
            case = self.path_case(request)
            operations.payment_delete(
                self.state, case, operations.payment_of(self.state, case, payment_id), reopen=reopen
            )
        return Response(204)

    @route("POST", "/cases/{id}/files")
    def upload_file(self, request: Request) -> Response:
        fields, files = request.form()
        with self.state.lock:
            stored = operations.file_upload(self.state, self.path_case(request), fields, files)
        return json_response(
            200, dto.case_file(stored, self.emulator.file_links.url(request.base_url, stored.id))
        )

    # -- webhooks ------------------------------------------------------------------------------
    @route("GET", "/webhooks")
    def list_webhooks(self, request: Request) -> Response:
        with self.state.lock:
            return json_response(200, [webhooks.as_json(h) for h in self.state.webhooks.values()])

    @route("POST", "/webhooks")
    def create_webhook(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            hook = webhooks.create(self.state, payload)
            return json_response(201, webhooks.as_json(hook, with_secret=True))

    @route("GET", "/webhooks/{id}")
    def get_webhook(self, request: Request) -> Response:
        with self.state.lock:
            return json_response(200, webhooks.as_json(self.path_webhook(request)))

    @route("PUT", "/webhooks/{id}")
    def update_webhook(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            hook = self.path_webhook(request)
            rotated = webhooks.update(self.state, hook, payload)
            return json_response(200, webhooks.as_json(hook, with_secret=rotated))

    @route("DELETE", "/webhooks/{id}")
    def delete_webhook(self, request: Request) -> Response:
        with self.state.lock:
            del self.state.webhooks[self.path_webhook(request).id]
        return Response(204)

    @route("GET", "/webhooks/events")
    def list_webhook_events(self, request: Request) -> Response:
        case_id = uuid_param(request.arg("caseId"), "caseId")
        since = webhooks.parse_since(request.arg("since"))
        with self.state.lock:
            events = [
                e
                for e in self.state.events.values()
                if e.case_id == case_id and (since is None or e.created_at >= since)
            ]
            return json_response(200, [webhooks.event_json(e) for e in reversed(events)])

    @route("POST", "/webhooks/events/{id}/replay")
    def replay_webhook_event(self, request: Request) -> Response:
        with self.state.lock:
            event = self.state.events.get(uuid_param(request.params.get("id"), "id"))
            if event is None or event.subscription_id not in self.state.webhooks:
                raise not_found("Webhook event not found.")
            webhooks.replay(self.state, event)
            return json_response(
                200,
                {"eventId": event.id, "subscriptionId": event.subscription_id, "eventType": event.event_type},
            )

    def path_webhook(self, request: Request) -> Any:
        # These operations document no 400: a malformed id is simply not a webhook of yours.
        hook = self.state.webhooks.get(request.params.get("id", "").lower())
        if hook is None:
            raise not_found("Webhook not found.")
        return hook


def dto_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
