"""The gateway's managed-case, ingestion and test-case methods, against the emulator."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from debitura.client import DebituraClient
from debitura.emulator import Emulator, OutgoingWebhook
from debitura.enums import AdvanceTarget, DebtorType, IngestionJobStatus, Lifecycle, WebhookEventType
from debitura.errors import IdempotencyConflict, NotFound, RequestInvalid, ValidationFailed
from debitura.types import CaseFilters, IngestionJob, IngestionNote, ManagedDebtor
from debitura.webhooks import verify
from tests.fixtures.emulator import EMULATOR_API_KEY
from tests.fixtures.gateway import make_client, managed_case

UNKNOWN_CASE = "00000000-0000-4000-8000-000000000001"


def active_case_id(emulator: Emulator) -> str:
    return next(c.id for c in emulator.state.cases.values() if c.lifecycle == "Active" and not c.is_test)


def nothing_sent(emulator: Emulator) -> bool:
    return emulator.stats()["requests"] == {}


def test_a_repeated_key_returns_the_same_managed_case(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    first = debitura_client.create_managed_case(managed_case(tag="run-1"), idempotency_key="submit-1")
    again = debitura_client.create_managed_case(managed_case(tag="run-1"), idempotency_key="submit-1")

    assert again.id == first.id
    assert len(emulator.state.managed) == 1
    with pytest.raises(IdempotencyConflict):
        debitura_client.create_managed_case(managed_case(tag="run-2"), idempotency_key="submit-1")


def test_a_managed_case_missing_fields_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    company_without_contact = ManagedDebtor(
        type=DebtorType.COMPANY, name="Pacific Trading LLC", country_alpha2="US"
    )
    case = managed_case(
        debtor=company_without_contact, creditor_country_alpha2=None, amount_to_recover=Decimal("0")
    )

    with pytest.raises(RequestInvalid) as refused:
        debitura_client.create_managed_case(case)

    assert set(refused.value.errors) == {
        "creditorCountryAlpha2",
        "amountToRecover",
        "debtor.contactPerson",
        "debtor.stateAlpha2",
    }
    assert nothing_sent(emulator)


def test_a_field_debitura_refuses_is_named_in_the_error(debitura_client: DebituraClient) -> None:
    nowhere = ManagedDebtor(type=DebtorType.PERSON, name="Jane Roe", country="Atlantis")

    with pytest.raises(ValidationFailed) as refused:
        debitura_client.create_managed_case(managed_case(debtor=nowhere))

    assert refused.value.status == 400
    assert [e.message for e in refused.value.business_errors] == [
        "debtor.country: 'Atlantis' is not a country Debitura knows."
    ]


def test_test_cases_show_in_the_case_list_only_when_asked_for(debitura_client: DebituraClient) -> None:
    case = debitura_client.create_managed_case(managed_case(tag="run-1"))

    hidden = debitura_client.list_cases(CaseFilters(ids=[case.id]))
    shown = debitura_client.list_cases(CaseFilters(ids=[case.id], include_test_cases=True))

    assert hidden.cases == ()
    assert [c.id for c in shown.cases] == [case.id]
    assert shown.cases[0].is_test_case


def test_deleting_by_tag_leaves_other_runs(debitura_client: DebituraClient) -> None:
    gone = debitura_client.create_managed_case(managed_case(tag="run-1"))
    kept = debitura_client.create_managed_case(managed_case(tag="run-2"))

    debitura_client.delete_test_cases(tag="run-1")

    with pytest.raises(NotFound):
        debitura_client.get_managed_case(gone.id)
    assert debitura_client.get_managed_case(kept.id).id == kept.id
    with pytest.raises(RequestInvalid):
        debitura_client.delete_test_cases(tag="  ")


def test_an_ingestion_job_reports_valid_and_invalid_rows(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    case_id = active_case_id(emulator)
    rows = [
        IngestionNote(case_id=case_id, description="Debtor promised to pay.", external_ref="crm-1"),
        IngestionNote(case_id=UNKNOWN_CASE, description="Not one of ours.", external_ref="crm-2"),
        IngestionNote(
            case_id=case_id, description="Letter sent.", event_date=datetime.now(UTC) - timedelta(days=2)
        ),
    ]

    created = debitura_client.create_ingestion_job(rows, idempotency_key="batch-1")
    seen: list[IngestionJob] = []
    while not (seen and seen[-1].finished):  # the emulator moves a job on with each poll
        seen.append(debitura_client.get_ingestion_job(created.job_id))

    assert created.rows_queued == 3
    assert seen[0].status is IngestionJobStatus.PROCESSING
    assert (seen[-1].status, seen[-1].rows_succeeded, seen[-1].rows_failed) == (
        IngestionJobStatus.COMPLETED,
        2,
        1,
    )
    assert seen[-1].rows_pending == 0


def test_an_ingestion_row_that_cannot_be_sent_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    ahead = datetime.now(UTC) + timedelta(days=1)
    rows = [
        IngestionNote(case_id="not-a-guid", description="x"),
        IngestionNote(case_id=UNKNOWN_CASE, description="", event_date=ahead),
    ]

    with pytest.raises(RequestInvalid) as refused:
        debitura_client.create_ingestion_job(rows)

    assert set(refused.value.errors) == {"rows[0].caseId", "rows[1].description", "rows[1].eventDate"}
    assert nothing_sent(emulator)


def test_an_unknown_job_status_number_is_tolerated() -> None:
    job = IngestionJob.from_json(b'{"status": 9, "rowsTotal": 1, "rowsSucceeded": 0, "rowsFailed": 0}')

    assert job.status is IngestionJobStatus.UNKNOWN
    assert not job.finished


def test_advancing_and_paying_a_test_case(debitura_client: DebituraClient) -> None:
    case = debitura_client.create_managed_case(managed_case())

    activated = debitura_client.advance_test_case(case.id, to=AdvanceTarget.ACTIVE)
    paid = debitura_client.create_managed_payment(
        case.id, date=date.today() - timedelta(days=1), amount=Decimal("1500.00"), close_case=True
    )

    assert (activated.advanced, activated.state) == (True, "Active")
    assert paid.case_closed
    assert paid.remaining_amount == Decimal("0")
    assert debitura_client.get_managed_case(case.id).lifecycle is Lifecycle.CLOSED
    with pytest.raises(RequestInvalid):
        debitura_client.advance_test_case(case.id, to=AdvanceTarget.CLOSED_PAID)


def test_a_production_managed_case_refuses_the_managing_partners_payment(
    debitura_client: DebituraClient,
) -> None:
    case = debitura_client.create_managed_case(managed_case(is_test=False))

    with pytest.raises(ValidationFailed) as refused:
        debitura_client.create_managed_payment(case.id, date=date.today(), amount=Decimal("10.00"))

    assert refused.value.error_types == {"ProductionCase"}


def test_firing_a_test_webhook_delivers_a_signed_event() -> None:
    deliveries: list[OutgoingWebhook] = []

    def capture(hook: OutgoingWebhook) -> int:
        deliveries.append(hook)
        return 200

    emulator = Emulator(cases=20, seed=42, api_key=EMULATOR_API_KEY, deliver=capture)
    with make_client(emulator.transport()) as client:
        hook = client.create_webhook(url="https://hooks.example/ci", events=["case.closed"], test_mode=True)
        case = client.create_managed_case(managed_case(tag="run-1"))

        fired = client.fire_test_webhook(case_id=case.id, event=WebhookEventType.CASE_CLOSED)

    assert fired.enqueued_count == 1
    [delivery] = deliveries
    assert hook.secret is not None
    verify(hook.secret, delivery.body, delivery.headers["X-Debitura-Signature"], now=time.time())
    assert delivery.headers["X-Debitura-Event"] == "case.closed"
