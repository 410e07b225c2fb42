"""The payment services on their own: the remainder with payments on their way, the share, CSV cells."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case
from payments.actions import payment_correct, payment_delete, payment_record
from payments.models import Payment
from payments.services import (
    RevenueShares,
    partner_revenue_shares,
    payment_record_warnings,
    payment_remainder,
    payment_split_preview,
    payments_csv_rows,
    payments_ledger,
)
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db

SHARES = RevenueShares(pre_legal=Decimal("0.40"), legal=Decimal("0.20"))


def record(case, actor, amount, token):
    return payment_record(
        case=case,
        actor=actor,
        date=timezone.localdate(),
        amount=Decimal(amount),
        recipient="CollectionPartner",
        token=token,
    )


def test_the_remainder_counts_payments_on_their_way_and_those_being_deleted(team_agent, active_case, relay):
    confirmed = record(active_case, team_agent, "100", "tok-a")
    relay()
    active_case.refresh_from_db()
    base = active_case.remainder

    record(active_case, team_agent, "40", "tok-b")  # pending: not in Debitura's remainder yet
    assert payment_remainder(case=active_case) == base - 40

    payment_delete(payment=Payment.objects.get(pk=reload(confirmed).payload["payment_id"]), actor=team_agent)
    assert payment_remainder(case=active_case) == base - 40 + 100


def test_the_remainder_counts_a_pending_correction_by_its_difference(team_agent, active_case, relay):
    action = record(active_case, team_agent, "100", "tok-c")
    relay()
    active_case.refresh_from_db()
    base = active_case.remainder
    payment = Payment.objects.get(pk=reload(action).payload["payment_id"])

    payment_correct(
        payment=payment,
        actor=team_agent,
        date=payment.date,
        amount=Decimal("70"),
        recipient=payment.recipient,
    )

    assert payment_remainder(case=active_case) == base + 30


def test_the_share_is_read_once_and_kept(active_case, emulator):
    first = partner_revenue_shares()
    second = partner_revenue_shares()
    assert first == second
    assert first.known
    assert len(emulator.requests(method="GET", template="/me")) == 1


def test_a_legal_case_uses_the_legal_share():
    case = Case(
        currency="EUR", remainder=Decimal("1000"), success_fee=Decimal("10"), engagement_phase="Legal"
    )
    preview = payment_split_preview(case=case, amount=Decimal("200"), shares=SHARES)
    assert (preview.agency_fee, preview.debitura_share, preview.agency_keeps) == (
        Decimal("20.00"),
        Decimal("4.00"),
        Decimal("16.00"),
    )
    assert preview.creditor == Decimal("180.00")


def test_yen_amounts_round_to_whole_yen_half_up():
    case = Case(
        currency="JPY", remainder=Decimal("100000"), success_fee=Decimal("9.5"), engagement_phase="Pre-legal"
    )
    preview = payment_split_preview(case=case, amount=Decimal("1234"), shares=SHARES)
    assert preview.agency_fee == Decimal("117")  # 117.23
    assert preview.debitura_share == Decimal("47")  # 46.8
    assert preview.creditor == Decimal("1117")


def test_without_a_success_fee_the_split_is_left_to_debitura():
    case = Case(currency="EUR", remainder=Decimal("500"), success_fee=None, engagement_phase="Legal")
    preview = payment_split_preview(case=case, amount=Decimal("600"), shares=SHARES)
    assert (preview.creditor, preview.agency_fee, preview.debitura_share) == (None, None, None)
    assert preview.over_remainder
    assert preview.remainder_after == Decimal("-100")


def test_failed_payments_are_no_duplicates(team_agent, active_case):
    action = record(active_case, team_agent, "75", "tok-x")
    Payment.objects.filter(pk=action.payload["payment_id"]).update(state=Payment.State.FAILED)
    warnings = payment_record_warnings(
        case=active_case, amount=Decimal("75"), when=timezone.localdate(), token="t2"
    )
    assert not any("duplicate" in w for w in warnings)


def test_csv_amounts_follow_the_currency_and_keep_what_they_hold(active_case):
    Case.objects.filter(pk=active_case.pk).update(currency="JPY")
    Payment.objects.create(case=active_case, date=date(2026, 1, 1), amount=Decimal("1500"), currency="JPY")
    Payment.objects.create(case=active_case, date=date(2026, 1, 2), amount=Decimal("12.3456"), currency="EUR")
    text = "".join(payments_csv_rows(payments=payments_ledger()))
    rows = list(csv.reader(io.StringIO(text)))
    amounts = {row[6]: row[5] for row in rows[1:]}
    assert amounts == {"JPY": "1500", "EUR": "12.3456"}
