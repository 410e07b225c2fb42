"""Changing cases through the gateway, against the emulator, every exchange checked against the spec."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from debitura.client import DebituraClient
from debitura.emulator import Emulator
from debitura.enums import (
    CloseCode,
    CommissionPaymentStatus,
    DocumentType,
    Lifecycle,
    PaymentRecipient,
    WebhookEventType,
)
from debitura.errors import (
    Conflict,
    IdempotencyConflict,
    NotFound,
    RequestInvalid,
    ValidationFailed,
)
from debitura.types import PaymentInput
from debitura.webhooks import verify
from tests.contract import contract_hooks
from tests.fixtures.gateway import make_client

WELCOME = "Thank you for the case; we start collection today."


def seeded(emulator: Emulator, test: Callable[[Any], bool]) -> Any:
    return next(case for case in emulator.state.cases.values() if not case.is_test and test(case))


def active(emulator: Emulator) -> Any:
    return seeded(emulator, lambda case: case.lifecycle == "Active" and case.remainder > 100)


def agent(emulator: Emulator) -> str:
    return next(user.email for user in emulator.state.users.values() if user.active)


def nothing_sent(emulator: Emulator) -> bool:
    return emulator.stats()["requests"] == {}


def payment(amount: str = "100.00", **overrides: Any) -> PaymentInput:
    options: dict[str, Any] = {
        "date": date.today() - timedelta(days=1),
        "amount": Decimal(amount),
        "recipient": PaymentRecipient.COLLECTION_PARTNER,
    }
    options.update(overrides)
    return PaymentInput(**options)


# --- start and close ------------------------------------------------------------------------------


def test_starting_a_pending_case_makes_it_active(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = seeded(emulator, lambda c: c.lifecycle == "PendingVerification" and not c.needs_custom_terms)
    result = debitura_client.start_case(
        seed.id,
        welcome_message=WELCOME,
        user_email=agent(emulator),
        assigned_user_email=agent(emulator),
        partner_reference="AG-2025-0042",
        interest_fees=Decimal("12.50"),
    )
    assert result.case_id == seed.id
    assert result.status is Lifecycle.ACTIVE
    assert result.collection_partner_reference == "AG-2025-0042"
    assert result.activated_at is not None
    assert result.activated_at.tzinfo is not None

    case = debitura_client.get_case_by_partner_reference("AG-2025-0042")
    assert case.lifecycle is Lifecycle.ACTIVE
    assert case.interest_fees == Decimal("12.50")
    assert any(chat.message == WELCOME for chat in debitura_client.list_chats(seed.id))


def test_starting_a_case_that_is_not_pending_is_refused_by_debitura(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        debitura_client.start_case(active(emulator).id, welcome_message=WELCOME, user_email=agent(emulator))
    assert caught.value.status == 400
    assert "InvalidCaseState" in caught.value.error_types
    assert "Active" in caught.value.message


def test_a_short_welcome_message_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = seeded(emulator, lambda c: c.lifecycle == "PendingVerification")
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.start_case(seed.id, welcome_message="Hi", user_email=agent(emulator))
    assert "welcomeMessage" in caught.value.errors
    assert nothing_sent(emulator)


def test_closing_a_case_returns_the_close_code_as_an_enum(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    result = debitura_client.close_case(
        seed.id, close_code=CloseCode.WITHDRAWN_BY_CLIENT, comment="Client asked."
    )
    assert result.close_code is CloseCode.WITHDRAWN_BY_CLIENT
    assert result.close_code_description == "Withdrawn by Client"
    assert isinstance(result.final_outstanding_amount, Decimal)
    case = debitura_client.get_case(seed.id)
    assert case.lifecycle is Lifecycle.CLOSED
    assert case.close_code is CloseCode.WITHDRAWN_BY_CLIENT


def test_closing_as_other_without_a_comment_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.close_case(active(emulator).id, close_code=CloseCode.OTHER)
    assert "comment" in caught.value.errors
    assert nothing_sent(emulator)


def test_closing_as_paid_without_payments_is_debituras_business_error(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = seeded(emulator, lambda c: c.lifecycle == "Active" and not c.payments)
    with pytest.raises(ValidationFailed) as caught:
        debitura_client.close_case(seed.id, close_code=CloseCode.PAID)
    assert "payment" in caught.value.message


# --- notes and fees -------------------------------------------------------------------------------


def test_a_back_dated_note_appears_on_the_timeline(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    when = datetime.now(UTC) - timedelta(days=2)
    note = debitura_client.create_note(
        seed.id, description="Debtor promised to pay by Friday.", event_date=when
    )
    assert note.description == "Debtor promised to pay by Friday."
    assert note.event_date is not None
    assert abs(note.event_date - when) < timedelta(seconds=1)
    timeline = debitura_client.get_timeline(seed.id)
    assert any("Debtor promised to pay by Friday." in (item.description or "") for item in timeline.items)


def test_a_note_dated_in_the_future_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.create_note(
            active(emulator).id, description="Later", event_date=datetime.now(UTC) + timedelta(hours=1)
        )
    assert "eventDate" in caught.value.errors
    assert nothing_sent(emulator)


def test_a_fee_update_is_applied_and_typed(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = active(emulator)
    result = debitura_client.update_fees(
        seed.id, interest_fees=Decimal("10.00"), reminder_fees=Decimal("5.25"), collection_fees=Decimal("0")
    )
    assert not result.confirmation_required
    assert result.updated is not None
    assert result.updated.reminder_fees == Decimal("5.25")
    assert result.updated.total_added_fees == Decimal("15.25")


def test_a_principal_change_that_moves_the_fee_asks_for_confirmation_as_data(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = seeded(
        emulator, lambda c: c.lifecycle == "Active" and c.success_fee is not None and not c.intentional_rate
    )
    fees: dict[str, Any] = {
        "interest_fees": Decimal(0),
        "reminder_fees": Decimal(0),
        "collection_fees": Decimal(0),
    }
    big = seed.gross_amount * 100

    asked = debitura_client.update_fees(seed.id, gross_amount=big, **fees)
    assert asked.confirmation_required
    assert asked.updated is None
    assert asked.confirmation is not None
    assert asked.confirmation.proposed_success_fee != asked.confirmation.current_success_fee
    assert debitura_client.get_case(seed.id).gross_amount == seed.gross_amount

    confirmed = debitura_client.update_fees(seed.id, gross_amount=big, confirm_price_change=True, **fees)
    assert not confirmed.confirmation_required
    assert confirmed.updated is not None
    assert confirmed.updated.gross_amount == big
    assert confirmed.updated.recalculated_success_fee == asked.confirmation.proposed_success_fee


def test_negative_or_float_fees_are_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.update_fees(
            active(emulator).id,
            interest_fees=Decimal("-1"),
            reminder_fees=0.5,  # type: ignore[arg-type]
            collection_fees=Decimal(0),
        )
    assert set(caught.value.errors) == {"interestFees", "reminderFees"}
    assert nothing_sent(emulator)


def test_fees_on_a_closed_case_are_refused(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = seeded(emulator, lambda c: c.lifecycle == "Closed")
    with pytest.raises(ValidationFailed):
        debitura_client.update_fees(
            seed.id, interest_fees=Decimal(0), reminder_fees=Decimal(0), collection_fees=Decimal(0)
        )


# --- chat -----------------------------------------------------------------------------------------


def test_a_chat_message_is_posted_as_a_team_member(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    email = agent(emulator)
    chat = debitura_client.send_chat(seed.id, message="We reached the debtor.", user_email=email)
    assert chat.message == "We reached the debtor."
    assert chat.user is not None
    assert chat.user.email == email
    assert debitura_client.list_chats(seed.id)[-1].id == chat.id


def test_a_chat_retried_with_the_same_key_is_replayed_not_duplicated(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    before = len(debitura_client.list_chats(seed.id))
    first = debitura_client.send_chat(
        seed.id, message="Update", user_email=agent(emulator), idempotency_key="k-1"
    )
    again = debitura_client.send_chat(
        seed.id, message="Update", user_email=agent(emulator), idempotency_key="k-1"
    )
    assert again.id == first.id
    assert len(debitura_client.list_chats(seed.id)) == before + 1
    assert [r.idempotency_key for r in emulator.requests(method="POST")] == ["k-1", "k-1"]


def test_a_chat_key_reused_with_another_message_is_an_idempotency_conflict(emulator: Emulator) -> None:
    # The spec lists no 422 for POST /chats, though Debitura documents IdempotencyConflict there
    # (API-NOTES); so only the request side is checked against the spec here.
    client = make_client(emulator.transport(), event_hooks={"request": contract_hooks()["request"]})
    seed = active(emulator)
    client.send_chat(seed.id, message="One", user_email=agent(emulator), idempotency_key="k-2")
    with pytest.raises(IdempotencyConflict) as caught:
        client.send_chat(seed.id, message="Two", user_email=agent(emulator), idempotency_key="k-2")
    assert caught.value.status == 422
    assert caught.value.is_idempotency_conflict


def test_a_chat_from_someone_outside_the_team_is_refused(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        debitura_client.send_chat(active(emulator).id, message="Hello", user_email="stranger@elsewhere.test")
    assert caught.value.message


def test_an_overlong_chat_or_key_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.send_chat(
            active(emulator).id, message="m" * 10_001, user_email=agent(emulator), idempotency_key="k" * 256
        )
    assert set(caught.value.errors) == {"message", "Idempotency-Key"}
    assert nothing_sent(emulator)


# --- payments -------------------------------------------------------------------------------------


def test_a_payment_is_recorded_with_exact_amounts(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    created = debitura_client.create_payment(seed.id, payment("12.34"), idempotency_key="pay-1")
    assert created.payment_amount == Decimal("12.34")
    assert created.payout_creditor is not None
    assert created.payout_collection_partner is not None
    assert created.payout_creditor + created.payout_collection_partner == Decimal("12.34")
    assert created.remaining_amount == seed.remainder
    assert created.date == payment().date
    (record,) = emulator.requests(template="/cases/{id}/payments", method="POST")
    assert record.body["paymentAmount"] == 12.34
    assert record.idempotency_key == "pay-1"
    listed = {p.id: p for p in debitura_client.list_payments(seed.id)}
    assert listed[created.payment_id].gross_amount == Decimal("12.34")


def test_a_payment_with_an_explicit_split_to_the_creditor(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    created = debitura_client.create_payment(
        seed.id,
        payment(
            "100.00",
            recipient=PaymentRecipient.CREDITOR,
            commission_status=CommissionPaymentStatus.UNPAID,
            payout_creditor=Decimal("80.00"),
            payout_partner=Decimal("20.00"),
        ),
        create_unpaid_commission_follow_up=False,
    )
    assert created.payout_creditor == Decimal("80.00")
    assert created.payout_collection_partner == Decimal("20.00")
    assert created.commission_payment_status == "Unpaid"


def test_a_payment_retried_with_the_same_key_is_recorded_once(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    before = len(seed.payments)
    first = debitura_client.create_payment(seed.id, payment("50.00"), idempotency_key="pay-2")
    again = debitura_client.create_payment(seed.id, payment("50.00"), idempotency_key="pay-2")
    assert again.payment_id == first.payment_id
    assert len(debitura_client.list_payments(seed.id)) == before + 1


def test_a_payment_key_reused_with_another_amount_is_an_idempotency_conflict(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    debitura_client.create_payment(seed.id, payment("50.00"), idempotency_key="pay-3")
    with pytest.raises(IdempotencyConflict):
        debitura_client.create_payment(seed.id, payment("51.00"), idempotency_key="pay-3")


def test_a_settling_payment_can_close_the_case_as_paid(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    created = debitura_client.create_payment(seed.id, payment(str(seed.remainder)), close_case=True)
    assert created.case_closed
    assert created.close_code is CloseCode.PAID
    assert created.remaining_amount == Decimal(0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("0.00")}, "paymentAmount"),
        ({"amount": 10.0}, "paymentAmount"),
        ({"date": date.today() + timedelta(days=3)}, "date"),
        ({"payout_creditor": Decimal("1.00")}, "payoutCreditor"),
        ({"payout_creditor": Decimal("60"), "payout_partner": Decimal("30")}, "payoutCreditor"),
        ({"recipient": PaymentRecipient.CREDITOR}, "commissionPaymentStatus"),
    ],
)
def test_an_invalid_payment_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.create_payment(active(emulator).id, replace(payment("100.00"), **overrides))
    assert field in caught.value.errors
    assert nothing_sent(emulator)


def test_a_payment_can_be_edited(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = active(emulator)
    created = debitura_client.create_payment(seed.id, payment("40.00"))
    edited = debitura_client.update_payment(seed.id, created.payment_id, payment("45.50"))
    assert edited.id == created.payment_id
    assert edited.gross_amount == Decimal("45.50")


def test_lowering_a_payment_on_a_paid_case_needs_consent_to_reopen(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    settled = debitura_client.create_payment(seed.id, payment(str(seed.remainder)), close_case=True)
    assert settled.case_closed

    with pytest.raises(Conflict) as caught:
        debitura_client.update_payment(seed.id, settled.payment_id, payment("1.00"))
    assert caught.value.status == 409
    assert "ReopenRequired" in caught.value.error_types

    debitura_client.update_payment(seed.id, settled.payment_id, payment("1.00"), reopen_case_if_needed=True)
    assert debitura_client.get_case(seed.id).lifecycle is Lifecycle.ACTIVE


def test_deleting_a_payment_on_a_paid_case_needs_consent_to_reopen(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    settled = debitura_client.create_payment(seed.id, payment(str(seed.remainder)), close_case=True)
    with pytest.raises(Conflict):
        debitura_client.delete_payment(seed.id, settled.payment_id)
    debitura_client.delete_payment(seed.id, settled.payment_id, reopen_case_if_needed=True)
    assert settled.payment_id not in {p.id for p in debitura_client.list_payments(seed.id)}
    assert debitura_client.get_case(seed.id).lifecycle is Lifecycle.ACTIVE


def test_an_invoiced_payment_is_frozen(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = active(emulator)
    created = debitura_client.create_payment(seed.id, payment("10.00"))
    emulator.state.payments[created.payment_id].invoiced = True
    with pytest.raises(ValidationFailed) as caught:
        debitura_client.delete_payment(seed.id, created.payment_id)
    assert caught.value.status == 422
    assert not caught.value.is_idempotency_conflict


def test_deleting_an_unknown_payment_is_not_found(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(NotFound):
        debitura_client.delete_payment(active(emulator).id, "00000000-0000-4000-8000-000000000000")


# --- files ----------------------------------------------------------------------------------------


def test_a_file_is_uploaded_from_a_path(
    debitura_client: DebituraClient, emulator: Emulator, tmp_path: Path
) -> None:
    seed = active(emulator)
    path = tmp_path / "demand-letter.pdf"
    path.write_bytes(b"%PDF-1.4 demand letter")
    uploaded = debitura_client.upload_file(
        seed.id, path, document_type=DocumentType.DEMAND_LETTER, description="First demand"
    )
    assert uploaded.file_name == "demand-letter.pdf"
    assert uploaded.document_type == "DemandLetter"
    assert uploaded.id in {f.id for f in debitura_client.list_files(seed.id)}
    stored = emulator.state.cases[seed.id].files[-1]
    assert stored.content == b"%PDF-1.4 demand letter"
    assert stored.description == "First demand"


def test_the_answer_to_an_upload_carries_its_description(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    uploaded = debitura_client.upload_file(
        active(emulator).id, io.BytesIO(b"%PDF"), file_name="a.pdf", description="First demand"
    )
    assert uploaded.description == "First demand"


def test_a_file_is_uploaded_from_an_open_file_object(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    uploaded = debitura_client.upload_file(seed.id, io.BytesIO(b"a,b\n1,2\n"), file_name="ledger.csv")
    assert uploaded.file_name == "ledger.csv"
    assert uploaded.document_type is None


def test_uploading_to_a_merged_case_is_a_conflict(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    merged = seeded(emulator, lambda c: c.lifecycle == "Merged")
    with pytest.raises(Conflict) as caught:
        debitura_client.upload_file(merged.id, io.BytesIO(b"%PDF"), file_name="late.pdf")
    assert "CaseMerged" in caught.value.error_types


def test_a_disallowed_file_type_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.upload_file(active(emulator).id, io.BytesIO(b"MZ"), file_name="tool.exe")
    assert "File" in caught.value.errors
    assert nothing_sent(emulator)


def test_a_file_over_25_megabytes_is_refused_without_reading_it(
    debitura_client: DebituraClient, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(25 * 1024 * 1024 + 1)  # sparse: no 25 MB actually written
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.upload_file(active(emulator).id, path)
    assert "25 MB" in caught.value.errors["File"]
    assert nothing_sent(emulator)


def test_the_upload_is_streamed_not_read_whole(debitura_client: DebituraClient, emulator: Emulator) -> None:
    class CountingFile(io.BytesIO):
        largest_read = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            CountingFile.largest_read = max(CountingFile.largest_read, len(chunk))
            return chunk

    content = os.urandom(1024 * 1024)
    debitura_client.upload_file(active(emulator).id, CountingFile(content), file_name="scan.pdf")
    assert 0 < CountingFile.largest_read < len(content)


# --- webhooks -------------------------------------------------------------------------------------


def test_webhook_subscriptions_can_be_created_read_changed_and_deleted(
    debitura_client: DebituraClient,
) -> None:
    created = debitura_client.create_webhook(
        url="https://portal.agency.test/hooks/debitura",
        events=[WebhookEventType.CASE_UPDATED, WebhookEventType.PAYMENT_CREATED],
    )
    assert created.secret
    assert created.events == ("case.updated", "payment.created")
    assert created.is_active

    assert [hook.id for hook in debitura_client.list_webhooks()] == [created.id]
    fetched = debitura_client.get_webhook(created.id)
    assert fetched.secret is None
    assert fetched.url == created.url

    updated = debitura_client.update_webhook(created.id, events=["case.closed"], active=False)
    assert updated.events == ("case.closed",)
    assert not updated.is_active
    rotated = debitura_client.update_webhook(created.id, regenerate_secret=True)
    assert rotated.secret
    assert rotated.secret != created.secret

    debitura_client.delete_webhook(created.id)
    assert debitura_client.list_webhooks() == ()
    with pytest.raises(NotFound):
        debitura_client.get_webhook(created.id)


def test_a_plain_http_webhook_to_another_host_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid):
        debitura_client.create_webhook(url="http://portal.agency.test/hooks", events=["case.updated"])
    assert nothing_sent(emulator)


def test_webhook_events_can_be_listed_for_a_case_and_replayed(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = active(emulator)
    hook = debitura_client.create_webhook(url="https://portal.agency.test/hooks", events=["payment.created"])
    before = datetime.now(UTC) - timedelta(minutes=5)
    debitura_client.create_payment(seed.id, payment("5.00"))

    events = debitura_client.list_webhook_events(case_id=seed.id, since=before)
    assert [event.event_type for event in events] == ["payment.created"]
    event = events[0]
    assert event.subscription_id == hook.id
    assert event.payload is not None
    assert seed.id in event.payload
    assert event.created_at is not None
    assert (
        debitura_client.list_webhook_events(case_id=seed.id, since=datetime.now(UTC) + timedelta(days=1))
        == ()
    )

    replay = debitura_client.replay_webhook_event(event.id)
    assert replay.event_id == event.id
    assert replay.subscription_id == hook.id
    assert replay.event_type == "payment.created"


def test_webhook_deliveries_verify_with_the_secret_from_creation(emulator: Emulator) -> None:
    delivered: list[Any] = []
    emulator.deliver = delivered.append
    client = make_client(emulator.transport())
    hook = client.create_webhook(url="https://portal.agency.test/hooks", events=["chat.created"])
    client.send_chat(active(emulator).id, message="Ping", user_email=agent(emulator))
    assert delivered
    delivery = delivered[0]
    assert hook.secret is not None
    body = delivery.body
    header = delivery.headers["X-Debitura-Signature"]
    assert verify(hook.secret, body, header, now=time.time())
