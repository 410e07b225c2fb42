"""The /test/ operations: drive, delete, replay and fire webhooks for test cases only.

A test case is one the caller owns (as collection partner or managing partner) with
`isTestCase: true`; production cases answer 400 and cases of others 404, as the spec says.
DELETE /test/cases/{id} is documented both as 404 for an unknown case and as idempotent (204
when already deleted): a test case this emulator deleted answers 204 again, an id it never
had answers 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import operations, webhooks
from .api import DebituraApi, uuid_param
from .errors import ApiError, bad_request, not_found
from .http import Request, Response, RouteTable, json_response
from .managed_payments import payment_record
from .model import CLOSE_CODES, WEBHOOK_EVENTS, ExclusivePeriod, add_months
from .model import Case as CaseModel
from .operations import EXCLUSIVE_MONTHS, Body
from .state import State

route = RouteTable()

TARGETS = ("Active", "Closed:Paid", "Closed:NoPayment")
# Where the advance operation activates a case from.
_ACTIVATABLE = frozenset({"PendingVerification", "PendingVerificationInternal"})
# The data an event's payload is read from; without it POST /test/webhooks/fire answers 422.
_NEEDS = {
    "payment.created": ("payments", "The case has no payments to fire payment.created for."),
    "payment.deleted": ("deleted_payments", "No payment has been deleted on the case."),
    "chat.created": ("chats", "The case has no chat messages to fire chat.created for."),
}


def owned_case(state: State, case_id: str) -> CaseModel:
    """A case the caller collects or submitted; 404 otherwise."""
    case = state.cases.get(case_id) or state.managed.get(case_id)
    if case is None:
        raise not_found("Case not found or not owned by this collection partner.")
    return case


def owned_test_case(state: State, case_id: str) -> CaseModel:
    """As owned_case, and 400 unless it is a test case."""
    case = owned_case(state, case_id)
    if not case.is_test:
        raise bad_request("Only test cases can be used here; this case is a production case.", "NotATestCase")
    return case


def current_state(case: CaseModel) -> str:
    """AdvanceTestCaseResponse.state: Active, Closed:Paid, Closed:NoPayment or Closed."""
    if case.lifecycle == "Closed":
        return {"Paid": "Closed:Paid", "PreLegalExhaustedNoPayment": "Closed:NoPayment"}.get(
            case.close_code or "", "Closed"
        )
    return case.lifecycle


def _activate(state: State, case: CaseModel) -> None:
    if case.lifecycle == "Active":
        return
    if case.lifecycle not in _ACTIVATABLE:
        raise bad_request(
            f"A test case in lifecycle '{case.lifecycle}' cannot be advanced; it activates only from "
            "Pending Verification.",
            "InvalidCaseState",
        )
    case.lifecycle, case.engagement_phase, case.validation_items = "Active", "Pre-legal", []
    started = operations.timeline_log(
        state,
        case,
        "StatusChange",
        "Case accepted",
        "Lifecycle changed to Active (test advance).",
        "System",
        None,
    )
    case.date_collection_started = started
    case.exclusive = ExclusivePeriod(started, add_months(started, EXCLUSIVE_MONTHS))
    state.fire("case.updated", case)


def advance(state: State, case: CaseModel, payload: dict[str, Any]) -> dict[str, Any]:
    """Drive a test case to Active, Closed:Paid or Closed:NoPayment; a no-op when already there."""
    body = Body(payload)
    target = body.text("to", required=True)
    amount = body.amount("amount", minimum=Decimal("0.01"))
    body.check()
    if target not in TARGETS:
        raise bad_request(f"to: must be one of {', '.join(TARGETS)}.", "InvalidTarget")
    if target == "Closed:Paid" and amount is None:
        raise bad_request("amount: is required when to is Closed:Paid.", "MissingField")
    now_state = current_state(case)
    if now_state == target or (target == "Active" and case.lifecycle == "Closed"):
        return {"advanced": False, "state": now_state}
    if case.lifecycle == "Closed":
        raise bad_request(
            f"The case is already {now_state} ({CLOSE_CODES.get(case.close_code or '', '')}); "
            f"it cannot be advanced to {target}.",
            "CloseCodeMismatch",
        )
    _activate(state, case)
    if target != "Active":
        # Closing is a lifecycle change as well as a close: both events fire.
        if target == "Closed:Paid":
            assert amount is not None
            payment_record(state, case, amount, state.clock.now(), by_partner=True)
        code = "Paid" if target == "Closed:Paid" else "PreLegalExhaustedNoPayment"
        state.fire("case.updated", case)
        operations.close_as(state, case, code, None, actor="System", who=None)
    return {"advanced": True, "state": current_state(case)}


def replay_last(state: State, case: CaseModel) -> dict[str, Any]:
    """Queue the case's most recent recorded webhook event again."""
    events = [
        e for e in state.events.values() if e.case_id == case.id and e.subscription_id in state.webhooks
    ]
    if not events:
        raise not_found("No webhook events have been recorded for this case yet.")
    event = max(events, key=lambda e: e.created_at)
    webhooks.replay(state, event)
    return {"eventId": event.id, "subscriptionId": event.subscription_id, "eventType": event.event_type}


def fire(state: State, payload: dict[str, Any]) -> dict[str, Any]:
    """Fire an event of a test case's current state to the caller's test subscriptions."""
    body = Body(payload)
    event = body.text("event", required=True)
    case_id = body.guid("caseId")
    if case_id is None and "caseId" not in body.payload:
        body.fail("caseId", "is required.", "MissingField")
    subscription_id = body.guid("subscriptionId")
    body.check()
    assert event is not None
    assert case_id is not None
    if event not in WEBHOOK_EVENTS:
        raise bad_request(f"event: must be one of {', '.join(WEBHOOK_EVENTS)}.", "UnknownEvent")
    case = owned_test_case(state, case_id.lower())
    if subscription_id is not None:
        hook = state.webhooks.get(subscription_id.lower())
        if hook is None or not hook.is_test_mode:
            raise bad_request(
                "subscriptionId: no test subscription of yours has this id.", "SubscriptionNotFound"
            )
        hooks = [hook]
    else:
        hooks = [h for h in state.webhooks.values() if h.is_active and h.is_test_mode and event in h.events]
    needed = _NEEDS.get(event)
    if needed and not getattr(case, needed[0]):
        raise ApiError(422, needed[1], "MissingEventData")
    return {"eventType": event, "caseId": case.id, "enqueuedCount": state.fire_to(event, case, hooks)}


class TestCasesApi:
    """The /test/ operations."""

    route_table = route

    def __init__(self, api: DebituraApi) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.emulator.state

    @route("POST", "/test/cases/{id}/advance")
    def advance_test_case(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            case = owned_test_case(self.state, uuid_param(request.params.get("id"), "id"))
            return json_response(200, advance(self.state, case, payload))

    @route("DELETE", "/test/cases/{id}")
    def delete_test_case(self, request: Request) -> Response:
        case_id = uuid_param(request.params.get("id"), "id")
        with self.state.lock:
            if case_id not in self.state.deleted_test_ids:
                case = owned_case(self.state, case_id)
                if not case.is_test:
                    raise bad_request("Production cases cannot be deleted.", "ProductionCase")
                self.state.remove_case(case)
        return Response(204)

    @route("DELETE", "/test/cases")
    def delete_test_cases(self, request: Request) -> Response:
        tag = (request.arg("tag") or "").strip()
        if not tag:
            raise bad_request("tag: is required.", "MissingParameter")
        with self.state.lock:
            owned = {**self.state.cases, **self.state.managed}.values()
            tagged = [c for c in owned if c.tag == tag]
            if any(not c.is_test for c in tagged):
                raise bad_request("The tag matches production cases; nothing was deleted.", "ProductionCase")
            for case in tagged:
                self.state.remove_case(case)
        return Response(204)

    @route("POST", "/test/cases/{id}/replay-last-event")
    def replay_last_event(self, request: Request) -> Response:
        with self.state.lock:
            case = owned_test_case(self.state, uuid_param(request.params.get("id"), "id"))
            return json_response(200, replay_last(self.state, case))

    @route("POST", "/test/webhooks/fire")
    def fire_webhook(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            return json_response(200, fire(self.state, payload))
