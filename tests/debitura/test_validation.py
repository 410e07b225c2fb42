"""Input checks that refuse a request before it costs an API call."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from debitura import validation
from debitura.enums import CloseCode, CommissionPaymentStatus, Lifecycle, PaymentRecipient
from debitura.errors import RequestInvalid
from debitura.types import PaymentInput

NOW = datetime(2025, 11, 19, 12, 0, tzinfo=UTC)

PAYMENT = PaymentInput(
    date=date(2025, 11, 18),
    amount=Decimal("100.00"),
    recipient=PaymentRecipient.COLLECTION_PARTNER,
)


def refused(check: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(RequestInvalid) as caught:
        check(*args, **kwargs)
    return caught.value.errors


def start(**overrides: Any) -> None:
    options: dict[str, Any] = {
        "welcome_message": "Welcome aboard, we start today.",
        "user_email": "agent@agency.test",
        "assigned_user_email": None,
        "partner_reference": None,
        "fees": {},
    }
    options.update(overrides)
    validation.check_start(**options)


def test_a_good_start_passes() -> None:
    start(partner_reference="R" * 128, fees={"interestFees": Decimal(0)})


@pytest.mark.parametrize("message", ["", "   ", "too short", "x" * 5001])
def test_welcome_message_must_be_10_to_5000_characters(message: str) -> None:
    assert "welcomeMessage" in refused(start, welcome_message=message)


def test_welcome_message_of_exactly_10_and_5000_characters_passes() -> None:
    start(welcome_message="x" * 10)
    start(welcome_message="x" * 5000)


def test_partner_reference_is_at_most_128_characters() -> None:
    assert "collectionPartnerReference" in refused(start, partner_reference="R" * 129)


def test_start_needs_a_sender_email() -> None:
    assert "userEmail" in refused(start, user_email="not an email")


def test_negative_or_float_start_fees_are_refused() -> None:
    errors = refused(start, fees={"interestFees": Decimal("-1"), "reminderFees": 1.5})
    assert errors["interestFees"] == "must be at least 0."
    assert errors["reminderFees"] == "must be a Decimal, not float."


def test_all_problems_are_reported_together() -> None:
    errors = refused(start, welcome_message="hi", partner_reference="R" * 200, user_email="")
    assert set(errors) == {"welcomeMessage", "collectionPartnerReference", "userEmail"}


def test_other_close_code_needs_a_comment() -> None:
    assert "comment" in refused(validation.check_close, close_code=CloseCode.OTHER, comment=None)
    assert "comment" in refused(validation.check_close, close_code=CloseCode.OTHER, comment="  ")
    validation.check_close(close_code=CloseCode.OTHER, comment="Outside jurisdiction")


def test_close_comment_is_at_most_2000_characters() -> None:
    assert "comment" in refused(validation.check_close, close_code=CloseCode.PAID, comment="c" * 2001)
    validation.check_close(close_code=CloseCode.PAID, comment="c" * 2000)
    validation.check_close(close_code=CloseCode.PAID, comment=None)


def test_unknown_close_code_cannot_be_sent() -> None:
    assert "closeCode" in refused(validation.check_close, close_code=CloseCode.UNKNOWN, comment=None)


def test_note_is_1_to_10000_characters_and_not_in_the_future() -> None:
    assert "description" in refused(validation.check_note, description="", event_date=None, now=NOW)
    assert "description" in refused(validation.check_note, description="n" * 10_001, event_date=None, now=NOW)
    later = NOW + timedelta(minutes=1)
    assert "eventDate" in refused(validation.check_note, description="Called", event_date=later, now=NOW)
    validation.check_note(description="n" * 10_000, event_date=NOW - timedelta(days=3), now=NOW)


def test_note_event_date_must_be_aware() -> None:
    naive = datetime(2025, 1, 1)
    assert "eventDate" in refused(validation.check_note, description="Called", event_date=naive, now=NOW)


def test_chat_is_1_to_10000_characters() -> None:
    good: dict[str, Any] = {"user_email": "a@agency.test", "idempotency_key": None}
    assert "message" in refused(validation.check_chat, message="m" * 10_001, **good)
    assert "message" in refused(validation.check_chat, message="", **good)
    validation.check_chat(message="m" * 10_000, **good)


@pytest.mark.parametrize("key", ["", "k" * 256, "has space", "ünï"])
def test_idempotency_key_must_be_1_to_255_visible_ascii_characters(key: str) -> None:
    errors = refused(validation.check_chat, message="Hello", user_email="a@agency.test", idempotency_key=key)
    assert "Idempotency-Key" in errors


def test_idempotency_key_of_255_characters_passes() -> None:
    validation.check_chat(message="Hello", user_email="a@agency.test", idempotency_key="k" * 255)


def test_a_good_payment_passes() -> None:
    validation.check_payment(PAYMENT, now=NOW)


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("0.009"), Decimal("-5")])
def test_payment_amount_must_be_at_least_one_cent(amount: Decimal) -> None:
    assert "paymentAmount" in refused(validation.check_payment, replace(PAYMENT, amount=amount), now=NOW)


def test_payment_amount_must_be_a_decimal_not_a_float() -> None:
    errors = refused(validation.check_payment, replace(PAYMENT, amount=100.0), now=NOW)  # type: ignore[arg-type]
    assert errors["paymentAmount"] == "must be a Decimal, not float."


def test_payment_date_must_not_be_in_the_future() -> None:
    assert "date" in refused(validation.check_payment, replace(PAYMENT, date=date(2025, 11, 21)), now=NOW)


def test_todays_date_somewhere_on_earth_is_not_the_future() -> None:
    late_evening = datetime(2025, 11, 19, 23, 0, tzinfo=UTC)  # already the 20th in Auckland
    validation.check_payment(replace(PAYMENT, date=date(2025, 11, 20)), now=late_evening)


def test_payouts_come_both_or_neither() -> None:
    errors = refused(validation.check_payment, replace(PAYMENT, payout_creditor=Decimal(80)), now=NOW)
    assert "payoutCreditor" in errors


def test_payouts_must_add_up_to_the_payment_within_a_cent() -> None:
    split = replace(PAYMENT, payout_creditor=Decimal("80.00"), payout_partner=Decimal("19.98"))
    assert "payoutCreditor" in refused(validation.check_payment, split, now=NOW)
    validation.check_payment(replace(split, payout_partner=Decimal("19.99")), now=NOW)
    validation.check_payment(replace(split, payout_partner=Decimal("20.00")), now=NOW)


def test_creditor_received_payments_need_a_commission_status() -> None:
    to_creditor = replace(PAYMENT, recipient=PaymentRecipient.CREDITOR)
    assert "commissionPaymentStatus" in refused(validation.check_payment, to_creditor, now=NOW)
    validation.check_payment(replace(to_creditor, commission_status=CommissionPaymentStatus.UNPAID), now=NOW)


def test_fees_may_be_zero_but_not_negative() -> None:
    validation.check_fees({"interestFees": Decimal(0), "grossAmount": None})
    assert "collectionFees" in refused(validation.check_fees, {"collectionFees": Decimal("-0.01")})


@pytest.mark.parametrize("name", ["scan.pdf", "LETTER.DOCX", "photo.JPeG", "mail.eml", "data.csv"])
def test_allowed_file_extensions_pass(name: str) -> None:
    validation.check_upload(file_name=name, size=1, description=None)


@pytest.mark.parametrize("name", ["tool.exe", "archive.tar.gz", "noextension", "image.gif"])
def test_other_file_extensions_are_refused(name: str) -> None:
    assert "File" in refused(validation.check_upload, file_name=name, size=1, description=None)


def test_files_over_25_megabytes_are_refused() -> None:
    limit = 25 * 1024 * 1024
    validation.check_upload(file_name="a.pdf", size=limit, description=None)
    assert "File" in refused(validation.check_upload, file_name="a.pdf", size=limit + 1, description=None)


def test_file_description_is_at_most_500_characters() -> None:
    assert "Description" in refused(validation.check_upload, file_name="a.pdf", size=1, description="d" * 501)


@pytest.mark.parametrize(("page", "size"), [(0, 10), (1, 0), (1, 101)])
def test_paging_is_checked(page: int, size: int) -> None:
    refused(validation.check_paging, page=page, page_size=size)


def test_status_filters_accept_members_names_and_descriptions() -> None:
    assert validation.lifecycle_filter(
        [Lifecycle.ACTIVE, "pendingverification", "Needs Additional Details"]
    ) == [
        "Active",
        "PendingVerification",
        "NeedsAdditionalDetails",
    ]


@pytest.mark.parametrize("status", ["Sleeping", Lifecycle.UNKNOWN])
def test_unknown_status_filters_are_refused(status: Lifecycle | str) -> None:
    assert "Statuses" in refused(validation.lifecycle_filter, [status])


def test_partner_references_are_limited_to_100_without_commas() -> None:
    assert "references" in refused(validation.check_partner_references, [f"R{i}" for i in range(101)])
    assert "references" in refused(validation.check_partner_references, ["A,B"])
    assert "references" in refused(validation.check_partner_references, [])
    validation.check_partner_references([f"R{i}" for i in range(100)])


def test_webhook_urls_must_be_https() -> None:
    assert "url" in refused(validation.check_webhook, url="http://example.com/hook", events=["case.updated"])
    assert "url" in refused(validation.check_webhook, url="https:///nohost", events=["case.updated"])
    validation.check_webhook(url="https://portal.agency.test/hooks/debitura", events=["case.updated"])


def test_plain_http_webhooks_are_allowed_to_this_machine_only() -> None:
    validation.check_webhook(url="http://127.0.0.1:8000/hooks/debitura", events=["case.updated"])
    validation.check_webhook(url="http://localhost/hooks", events=None)
    assert "url" in refused(validation.check_webhook, url="http://10.0.0.5/hooks", events=None)
    assert "events" in refused(validation.check_webhook, url="https://example.com/hook", events=[])
