"""Every operation in Debitura's spec, driven through the gateway against the emulator.

Each scenario calls the gateway's typed method for one operation; every request the gateway sends
(JSON body, query names, path parameters) and every answer the emulator gives (status and body)
is validated against the spec's schemas by tests/contract.py (openapi-schema-validator, the
OpenAPI 3.0 validator of openapi-core). A scenario passes only if its operation was answered with
a 2xx; the guard at the end fails when the spec lists an operation no scenario covers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from debitura.client import DebituraClient
from debitura.emulator import Emulator
from debitura.emulator.model import Case as SeededCase
from debitura.enums import AdvanceTarget, CloseCode, PaymentRecipient, WebhookEventType
from debitura.types import (
    Case,
    CaseFilters,
    IngestionNote,
    PaymentInput,
)
from tests.contract import ContractViolation, contract_hooks, operation, path_template, spec
from tests.fixtures.gateway import make_client, managed_case

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
Operation = tuple[str, str]


@dataclass
class World:
    """The emulator, a spec-checked gateway client on it, and what each exchange was."""

    emulator: Emulator
    client: DebituraClient
    exchanges: list[tuple[str, str, int]] = field(default_factory=list)

    def agent(self) -> str:
        return next(user.email for user in self.emulator.state.users.values() if user.active)

    def seeded(self, test: Callable[[SeededCase], bool]) -> SeededCase:
        return next(c for c in self.emulator.state.cases.values() if not c.is_test and test(c))

    def active(self) -> SeededCase:
        return self.seeded(lambda c: c.lifecycle == "Active" and c.remainder > 500)

    def pending(self) -> SeededCase:
        return self.emulator.new_assignment(claim_type="Unpaid Invoice", disputed=False)[0]

    def test_case(self, *, tag: str = "contract-run", is_test: bool = True) -> Case:
        return self.client.create_managed_case(managed_case(tag=tag, is_test=is_test))

    def paid_test_case(self) -> tuple[Case, str]:
        case = self.test_case()
        self.client.advance_test_case(case.id, to=AdvanceTarget.ACTIVE)
        created = self.client.create_managed_payment(
            case.id, date=date.today() - timedelta(days=1), amount=Decimal("100.00")
        )
        return case, created.payment_id

    def test_webhook(self) -> str:
        events = [event.value for event in WebhookEventType]
        return self.client.create_webhook(url="https://hooks.example/test", events=events, test_mode=True).id


def payment(amount: str = "100.00") -> PaymentInput:
    return PaymentInput(
        date=date.today() - timedelta(days=1),
        amount=Decimal(amount),
        recipient=PaymentRecipient.COLLECTION_PARTNER,
    )


# --- what the gateway sends beyond its JSON body ------------------------------------------------


def check_parameters(request: httpx.Request) -> None:
    """Query names the operation declares (ASP.NET matches them case-insensitively) and path
    parameters of the declared type and format (a GUID where the spec says uuid)."""
    path = request.url.path
    if path.startswith("/_emulator/"):
        return
    template = path_template(path)
    op = operation(request.method, template)
    declared = {p["name"].lower(): p for p in op.get("parameters", [])}
    for name in request.url.params:
        found = declared.get(name.lower())
        if found is None or found["in"] != "query":
            raise ContractViolation(
                f"{request.method} {template} sends the undeclared query parameter {name}."
            )
    pattern = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
    match = re.match(pattern, path)
    assert match is not None
    for name, value in match.groupdict().items():
        schema = declared[name.lower()]["schema"]
        errors = list(OAS30Validator(schema, format_checker=oas30_format_checker).iter_errors(value))
        if errors:
            raise ContractViolation(
                f"{request.method} {template}: path parameter {name}: {errors[0].message}"
            )


@pytest.fixture
def world(emulator: Emulator) -> Iterator[World]:
    recorded: list[tuple[str, str, int]] = []

    def record(response: httpx.Response) -> None:
        if not response.request.url.path.startswith("/_emulator/"):
            template = path_template(response.request.url.path)
            recorded.append((response.request.method, template, response.status_code))

    hooks = contract_hooks()
    hooks["request"].append(check_parameters)
    hooks["response"].append(record)
    with make_client(emulator.transport(), event_hooks=hooks) as client:
        yield World(emulator, client, recorded)


# --- one scenario per operation ------------------------------------------------------------------

SCENARIOS: dict[Operation, Callable[[World], None]] = {}


def covers(method: str, template: str) -> Callable[[Callable[[World], None]], Callable[[World], None]]:
    def register(scenario: Callable[[World], None]) -> Callable[[World], None]:
        SCENARIOS[(method, template)] = scenario
        return scenario

    return register


@covers("GET", "/me")
def _me(w: World) -> None:
    assert w.client.get_me().company_name


@covers("GET", "/users")
def _users(w: World) -> None:
    assert w.client.list_users(page_size=2)


@covers("GET", "/cases")
def _cases(w: World) -> None:
    page = w.client.list_cases(
        CaseFilters(statuses=["Active"], sort="DateUpdated:desc", include_test_cases=True)
    )
    assert page.cases


@covers("GET", "/cases/{id}")
def _case(w: World) -> None:
    assert w.client.get_case(w.active().id).id


@covers("GET", "/cases/case-reference/{caseReference}")
def _case_by_reference(w: World) -> None:
    assert w.client.get_case_by_reference(w.active().reference).id


@covers("GET", "/cases/by-partner-reference/{reference}")
def _case_by_partner_reference(w: World) -> None:
    seeded = w.seeded(lambda c: bool(c.partner_reference))
    assert seeded.partner_reference
    assert w.client.get_case_by_partner_reference(seeded.partner_reference).id == seeded.id


@covers("GET", "/cases/by-partner-reference")
def _cases_by_partner_references(w: World) -> None:
    seeded = w.seeded(lambda c: bool(c.partner_reference))
    assert seeded.partner_reference
    assert set(w.client.get_cases_by_partner_references([seeded.partner_reference, "unknown-ref"])) == {
        seeded.partner_reference
    }


@covers("GET", "/cases/by-creditor-reference")
def _case_by_creditor_reference(w: World) -> None:
    seeded = w.active()
    found = w.client.get_case_by_creditor_reference(seeded.creditor_reference, creditor_id=seeded.creditor.id)
    assert found.id == seeded.id


@covers("GET", "/cases/{id}/timeline")
def _timeline(w: World) -> None:
    assert w.client.get_timeline(w.active().id).items


@covers("GET", "/cases/{id}/chats")
def _chats(w: World) -> None:
    w.client.list_chats(w.active().id)


@covers("POST", "/cases/{id}/chats")
def _send_chat(w: World) -> None:
    w.client.send_chat(w.active().id, message="Any news?", user_email=w.agent(), idempotency_key="chat-1")


@covers("GET", "/cases/{id}/payments")
def _payments(w: World) -> None:
    w.client.list_payments(w.seeded(lambda c: bool(c.payments)).id)


@covers("POST", "/cases/{id}/payments")
def _create_payment(w: World) -> None:
    w.client.create_payment(w.active().id, payment(), idempotency_key="payment-1")


@covers("PUT", "/cases/{id}/payments/{paymentId}")
def _update_payment(w: World) -> None:
    case = w.active()
    created = w.client.create_payment(case.id, payment())
    w.client.update_payment(case.id, created.payment_id, payment("120.00"))


@covers("DELETE", "/cases/{id}/payments/{paymentId}")
def _delete_payment(w: World) -> None:
    case = w.active()
    created = w.client.create_payment(case.id, payment())
    w.client.delete_payment(case.id, created.payment_id)


@covers("GET", "/cases/{id}/files")
def _files(w: World) -> None:
    w.client.list_files(w.active().id)


@covers("POST", "/cases/{id}/files")
def _upload(w: World) -> None:
    w.client.upload_file(w.active().id, io.BytesIO(b"a letter"), file_name="letter.txt", description="Letter")


@covers("POST", "/cases/{id}/notes")
def _note(w: World) -> None:
    w.client.create_note(w.active().id, description="Called the debtor.")


@covers("POST", "/cases/{id}/close")
def _close(w: World) -> None:
    w.client.close_case(w.active().id, close_code=CloseCode.DEBTOR_UNTRACEABLE)


@covers("POST", "/cases/{id}/start")
def _start(w: World) -> None:
    w.client.start_case(w.pending().id, welcome_message="We take over the case today.", user_email=w.agent())


@covers("PUT", "/cases/{id}/fees")
def _fees(w: World) -> None:
    case = w.active()
    w.client.update_fees(
        case.id, interest_fees=Decimal("5.00"), reminder_fees=Decimal("10.00"), collection_fees=Decimal("0")
    )


@covers("GET", "/cases/{id}/exclusive-period")
def _exclusive_period(w: World) -> None:
    assert w.client.get_exclusive_period(w.seeded(lambda c: c.exclusive is not None).id) is not None


@covers("GET", "/cases/{id}/validation")
def _validation(w: World) -> None:
    w.client.get_case_validation(w.active().id)


@covers("POST", "/ingestion-jobs")
def _create_ingestion_job(w: World) -> None:
    rows = [IngestionNote(case_id=w.active().id, description="Promise to pay on Friday.", external_ref="n-1")]
    assert w.client.create_ingestion_job(rows, idempotency_key="job-1").rows_queued == 1


@covers("GET", "/ingestion-jobs/{jobId}")
def _ingestion_job(w: World) -> None:
    created = w.client.create_ingestion_job([IngestionNote(case_id=w.active().id, description="Note")])
    assert w.client.get_ingestion_job(created.job_id).rows_total == 1


@covers("POST", "/managed-cases")
def _create_managed_case(w: World) -> None:
    assert w.client.create_managed_case(managed_case(is_test=False), idempotency_key="managed-1").id


@covers("GET", "/managed-cases")
def _managed_cases(w: World) -> None:
    w.test_case()
    assert w.client.list_managed_cases().cases


@covers("GET", "/managed-cases/{id}")
def _managed_case(w: World) -> None:
    assert w.client.get_managed_case(w.test_case().id).is_test_case


@covers("GET", "/managed-cases/case-reference/{caseReference}")
def _managed_case_by_reference(w: World) -> None:
    case = w.test_case()
    assert case.reference
    assert w.client.get_managed_case_by_reference(case.reference).id == case.id


@covers("GET", "/managed-cases/{id}/timeline")
def _managed_timeline(w: World) -> None:
    assert w.client.get_managed_timeline(w.test_case().id).items


@covers("GET", "/managed-cases/{id}/chats")
def _managed_chats(w: World) -> None:
    w.client.list_managed_chats(w.test_case().id)


@covers("GET", "/managed-cases/{id}/payments")
def _managed_payments(w: World) -> None:
    case, _ = w.paid_test_case()
    assert w.client.list_managed_payments(case.id)


@covers("POST", "/managed-cases/{id}/payments")
def _create_managed_payment(w: World) -> None:
    w.paid_test_case()


@covers("PUT", "/managed-cases/{id}/payments/{paymentId}")
def _update_managed_payment(w: World) -> None:
    case, payment_id = w.paid_test_case()
    w.client.update_managed_payment(case.id, payment_id, payment("150.00"))


@covers("DELETE", "/managed-cases/{id}/payments/{paymentId}")
def _delete_managed_payment(w: World) -> None:
    case, payment_id = w.paid_test_case()
    w.client.delete_managed_payment(case.id, payment_id)


@covers("GET", "/managed-cases/{id}/files")
def _managed_files(w: World) -> None:
    w.client.list_managed_files(w.test_case().id)


@covers("POST", "/test/cases/{id}/advance")
def _advance(w: World) -> None:
    result = w.client.advance_test_case(
        w.test_case().id, to=AdvanceTarget.CLOSED_PAID, amount=Decimal("1500")
    )
    assert result.advanced


@covers("DELETE", "/test/cases/{id}")
def _delete_test_case(w: World) -> None:
    w.client.delete_test_case(w.test_case().id)


@covers("DELETE", "/test/cases")
def _delete_test_cases(w: World) -> None:
    w.test_case(tag="run-42")
    w.client.delete_test_cases(tag="run-42")


@covers("POST", "/test/cases/{id}/replay-last-event")
def _replay_last_event(w: World) -> None:
    w.test_webhook()
    case = w.test_case()
    w.client.advance_test_case(case.id, to=AdvanceTarget.ACTIVE)
    assert w.client.replay_last_test_event(case.id).event_type == "case.updated"


@covers("POST", "/test/webhooks/fire")
def _fire(w: World) -> None:
    w.test_webhook()
    assert w.client.fire_test_webhook(
        case_id=w.test_case().id, event=WebhookEventType.CASE_UPDATED
    ).enqueued_count


@covers("GET", "/webhooks/events")
def _webhook_events(w: World) -> None:
    w.test_webhook()
    case = w.test_case()
    assert w.client.list_webhook_events(case_id=case.id, since=datetime.now(UTC) - timedelta(hours=1))


@covers("POST", "/webhooks/events/{id}/replay")
def _replay(w: World) -> None:
    w.test_webhook()
    event = w.client.list_webhook_events(case_id=w.test_case().id)[0]
    w.client.replay_webhook_event(event.id)


@covers("GET", "/webhooks")
def _webhooks(w: World) -> None:
    w.test_webhook()
    assert w.client.list_webhooks()


@covers("POST", "/webhooks")
def _create_webhook(w: World) -> None:
    assert w.client.get_webhook(w.test_webhook()).is_test_mode


@covers("GET", "/webhooks/{id}")
def _webhook(w: World) -> None:
    w.client.get_webhook(w.test_webhook())


@covers("PUT", "/webhooks/{id}")
def _update_webhook(w: World) -> None:
    w.client.update_webhook(w.test_webhook(), events=["case.closed"], active=True, regenerate_secret=True)


@covers("DELETE", "/webhooks/{id}")
def _delete_webhook(w: World) -> None:
    w.client.delete_webhook(w.test_webhook())


@pytest.mark.parametrize("operation_key", sorted(SCENARIOS), ids=lambda op: f"{op[0]} {op[1]}")
def test_the_gateway_and_the_emulator_keep_to_the_spec(world: World, operation_key: Operation) -> None:
    SCENARIOS[operation_key](world)

    method, template = operation_key
    statuses = [status for m, t, status in world.exchanges if (m, t) == (method, template)]
    assert any(200 <= status < 300 for status in statuses), (
        f"the scenario never got a 2xx from {method} {template} (answers: {statuses})"
    )


def test_every_operation_in_the_spec_has_a_contract_scenario() -> None:
    listed = {
        (method.upper(), template)
        for template, item in spec()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert len(listed) == 48
    assert sorted(listed - set(SCENARIOS)) == []
    assert sorted(set(SCENARIOS) - listed) == []
