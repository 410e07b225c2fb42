"""Kept or broken from the payments recorded: allocation in date order, the grace, partly paid
instalments, and the evaluation following payments as they are saved, deleted and synced."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.models import Payment
from promises.actions import promise_record
from promises.evaluation import promises_evaluate, promises_evaluate_all
from promises.models import Promise
from promises.tasks import evaluate_daily, evaluate_synced
from tests.fixtures.factories import CaseFactory, PaymentFactory
from tests.promises.conftest import promise_values

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FIRST = TODAY + timedelta(days=10)


@pytest.fixture
def case():
    return CaseFactory(currency="EUR", gross_amount=Decimal("2000"), remainder=Decimal("2000"))


@pytest.fixture
def three_monthly(case, agent):
    """1,200.00 EUR in three monthly instalments of 400.00, the first due in ten days."""
    return promise_record(case=case, actor=agent, **promise_values(first_due=FIRST))


def pay(case, when: date, amount: str, **kwargs) -> Payment:
    return PaymentFactory.create(case=case, date=when, amount=Decimal(amount), **kwargs)


def states(promise: Promise) -> tuple[str, list[tuple[str, Decimal]]]:
    promise.refresh_from_db()
    return promise.status, [(i.status, i.paid) for i in promise.schedule.order_by("position")]


def evaluate(case, days_after_first: int) -> None:
    promises_evaluate(case_ids=[case.pk], today=FIRST + timedelta(days=days_after_first))


def test_instalments_paid_on_time_keep_the_promise(case, three_monthly, settings):
    settings.PROMISE_GRACE_DAYS = 3
    dates = [i.due_date for i in three_monthly.schedule.order_by("position")]
    for day in dates:
        pay(case, day, "400.00")

    evaluate(case, 100)

    status, instalments = states(three_monthly)
    assert status == "kept"
    assert instalments == [("kept", Decimal("400.00"))] * 3


def test_a_payment_within_the_grace_keeps_and_one_after_it_breaks(case, three_monthly, settings):
    settings.PROMISE_GRACE_DAYS = 3
    pay(case, FIRST + timedelta(days=3), "400.00")  # the last day of the grace

    evaluate(case, 4)
    assert states(three_monthly) == ("open", [("kept", Decimal("400.00")), ("open", 0), ("open", 0)])

    Payment.objects.all().delete()
    pay(case, FIRST + timedelta(days=4), "400.00")  # a day too late for the first instalment
    evaluate(case, 4)

    # The late money goes to the next instalment; the first is broken, and so is the promise.
    assert states(three_monthly) == ("broken", [("broken", 0), ("kept", Decimal("400.00")), ("open", 0)])


def test_the_grace_is_configurable(case, three_monthly, settings):
    pay(case, FIRST + timedelta(days=6), "400.00")

    settings.PROMISE_GRACE_DAYS = 7
    evaluate(case, 8)
    assert states(three_monthly)[1][0] == ("kept", Decimal("400.00"))

    settings.PROMISE_GRACE_DAYS = 3
    evaluate(case, 8)
    assert states(three_monthly)[1][0] == ("broken", 0)


def test_an_open_instalment_turns_broken_only_once_its_grace_has_passed(case, three_monthly, settings):
    settings.PROMISE_GRACE_DAYS = 3

    evaluate(case, 3)
    assert states(three_monthly)[0] == "open"
    evaluate(case, 4)
    assert states(three_monthly)[0] == "broken"


def test_partly_paid_instalments_stay_open_then_break_with_what_was_paid(case, three_monthly, settings):
    settings.PROMISE_GRACE_DAYS = 3
    pay(case, FIRST - timedelta(days=2), "150.00")
    pay(case, FIRST, "100.00")

    evaluate(case, 1)
    assert states(three_monthly) == ("open", [("open", Decimal("250.00")), ("open", 0), ("open", 0)])

    evaluate(case, 4)
    assert states(three_monthly) == ("broken", [("broken", Decimal("250.00")), ("open", 0), ("open", 0)])


def test_one_large_payment_covers_several_instalments_in_order(case, three_monthly):
    pay(case, FIRST, "900.00")

    evaluate(case, 1)

    assert states(three_monthly) == (
        "open",
        [("kept", Decimal("400.00")), ("kept", Decimal("400.00")), ("open", Decimal("100.00"))],
    )


def test_payments_before_the_promise_or_in_another_currency_or_failed_do_not_count(case, three_monthly):
    pay(case, TODAY - timedelta(days=1), "400.00")
    pay(case, FIRST, "400.00", currency="USD")
    pay(case, FIRST, "400.00", state=Payment.State.FAILED)
    pay(case, FIRST, "400.00", state=Payment.State.DELETING)

    evaluate(case, 1)

    assert states(three_monthly)[1][0] == ("open", 0)


def test_a_payment_recorded_here_and_still_on_its_way_counts(case, three_monthly):
    pay(case, FIRST, "400.00", state=Payment.State.PENDING)

    evaluate(case, 1)

    assert states(three_monthly)[1][0] == ("kept", Decimal("400.00"))


def test_a_cancelled_promise_stays_cancelled(case, three_monthly, agent):
    from promises.actions import promise_cancel

    promise_cancel(promise=three_monthly, actor=agent, reason="Withdrawn.")
    evaluate(case, 100)

    assert states(three_monthly)[0] == "cancelled"


def test_a_payment_saved_or_deleted_re_evaluates_on_commit(
    case, three_monthly, django_capture_on_commit_callbacks, monkeypatch
):
    # The real clock: the first instalment is due in ten days; a payment today keeps it.
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(case, TODAY, "400.00")
    assert states(three_monthly)[1][0] == ("kept", Decimal("400.00"))

    with django_capture_on_commit_callbacks(execute=True):
        payment.delete()
    assert states(three_monthly)[1][0] == ("open", 0)


def test_payments_on_a_case_without_promises_queue_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        pay(CaseFactory(), TODAY, "10.00")
    assert callbacks == []


def test_payments_the_sync_writes_in_bulk_are_caught_by_the_sweep(active_case, agent, sync_client):
    """A payment made at Debitura arrives with a children refresh (written in bulk, no signals)."""
    from cases.sync import case_children_refresh
    from debitura.enums import PaymentRecipient
    from debitura.types import PaymentInput

    promise = promise_record(case=active_case, actor=agent, **promise_values(amount=Decimal("30.00")))
    promises_evaluate_all()
    sync_client.create_payment(
        str(active_case.pk),
        PaymentInput(date=TODAY, amount=Decimal("10.00"), recipient=PaymentRecipient.COLLECTION_PARTNER),
    )
    case_children_refresh(case=active_case, client=sync_client)
    assert Payment.objects.filter(case=active_case, date=TODAY).exists()
    assert states(promise)[1][0] == ("open", 0)  # no signal reached it

    assert evaluate_synced() == 1

    assert states(promise)[1][0] == ("kept", Decimal("10.00"))
    assert evaluate_synced() == 0  # nothing new since


def test_the_daily_run_breaks_what_time_passed(case, three_monthly, monkeypatch, settings):
    settings.PROMISE_GRACE_DAYS = 0
    Promise.objects.filter(pk=three_monthly.pk).update(first_due=TODAY - timedelta(days=1))
    three_monthly.schedule.filter(position=1).update(due_date=TODAY - timedelta(days=1))

    assert evaluate_daily() == 1

    assert states(three_monthly)[0] == "broken"
