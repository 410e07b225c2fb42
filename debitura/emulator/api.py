"""Handlers for Debitura's paths: parse and check the request, call the state, shape the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import dto
from .errors import ApiError, bad_request, not_found
from .http import Request, Response, RouteTable, is_uuid, json_response, raw_json_response
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


class DebituraApi:
    """The operations the emulator implements, bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.router = route.bind(self)

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
        statuses = request.args("Statuses")
        lifecycles = None
        if statuses is not None:
            unknown = [s for s in statuses if s.lower() not in _STATUS_NAMES]
            if unknown:
                raise bad_request(f"Unknown status value(s): {', '.join(unknown)}.", "InvalidStatus")
            lifecycles = {_STATUS_NAMES[s.lower()] for s in statuses}
        query = CaseQuery(
            page=request.int_arg("Page", 1, minimum=1, maximum=2**31 - 1),
            page_size=request.int_arg("PageSize", 10, minimum=1, maximum=100),
            ids=uuid_args(request, "Ids"),
            debtor_ids=uuid_args(request, "DebtorIds"),
            division_ids=uuid_args(request, "DivisionIds"),
            lifecycles=lifecycles,
            include_test_cases=request.bool_arg("includeTestCases"),
            sort=parse_sort(request.arg("Sort")),
        )
        with self.state.lock:
            total, page = self.state.list_cases(query)
            cases = b",".join(self.state.case_json(c) for c in page)
        meta = dto.page_data(total, query.page, query.page_size, len(page))
        body = b'{"page":' + dto_bytes(meta) + b',"cases":[' + cases + b"]}"
        return raw_json_response(200, body)

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


def dto_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


__all__ = ["ApiError", "DebituraApi"]
