"""Payments: the computed split, explicit splits, warnings, closing, editing, deleting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from debitura.emulator import Emulator
from debitura.emulator.model import Case
from tests.fixtures.emulator import payment_body, started_case


def pay(api: httpx.Client, case: Case, amount: object, **extra: object) -> httpx.Response:
    return api.post(f"/cases/{case.id}/payments", json=payment_body(amount, **extra))


def test_split_follows_the_success_fee_and_keeps_the_revenue_share_aside(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    fee = Decimal(str(api.get(f"/cases/{case.id}").json()["preLegalSuccessFee"]))
    share = Decimal(str(api.get("/me").json()["preLegalRevenueShare"]))

    body = pay(api, case, 1000).json()

    partner_part = (Decimal(1000) * fee / 100).quantize(Decimal("0.01"))
    assert Decimal(str(body["payoutCollectionPartner"])) == partner_part
    assert Decimal(str(body["payoutCreditor"])) == Decimal(1000) - partner_part
    assert emulator.state.payments[body["paymentId"]].platform_share == (partner_part * share).quantize(
        Decimal("0.01")
    )
    assert body["warnings"] == []
    assert body["commissionPaymentStatus"] == "Paid"


def test_payment_lowers_the_remainder(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    before = Decimal(str(api.get(f"/cases/{case.id}").json()["remainder"]))

    body = pay(api, case, 100).json()

    assert Decimal(str(body["remainingAmount"])) == before - 100
    assert Decimal(str(api.get(f"/cases/{case.id}").json()["remainder"])) == before - 100
    assert api.get(f"/cases/{case.id}/payments").json()[0]["grossAmount"] == 100


def test_explicit_split_must_be_complete_and_add_up(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    one_side = pay(api, case, 100, payoutCreditor=80)
    wrong_sum = pay(api, case, 100, payoutCreditor=80, payoutCollectionPartner=25)
    within_a_cent = pay(api, case, 100, payoutCreditor=80, payoutCollectionPartner=20.01)

    assert one_side.status_code == wrong_sum.status_code == 400
    assert within_a_cent.status_code == 200
    assert within_a_cent.json()["payoutCollectionPartner"] == 20.01


def test_split_giving_the_creditor_nothing_is_accepted_with_a_warning(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)

    body = pay(api, case, 100, payoutCreditor=0, payoutCollectionPartner=100).json()

    assert len(body["warnings"]) == 1
    assert "creditor nothing" in body["warnings"][0]


def test_payment_on_a_settled_case_is_accepted_with_a_warning(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    pay(api, case, float(case.remainder))

    body = pay(api, case, 10).json()

    assert any("no outstanding balance" in w for w in body["warnings"])


def test_commission_status_is_required_when_the_creditor_was_paid(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)

    missing = pay(api, case, 100, paymentRecipient="Creditor")
    given = pay(api, case, 100, paymentRecipient="Creditor", commissionPaymentStatus="Unpaid")

    assert missing.status_code == 400
    assert given.json()["commissionPaymentStatus"] == "Unpaid"


@pytest.mark.parametrize("body", [{"paymentAmount": 0}, {"paymentRecipient": "Bank"}, {"date": "soon"}])
def test_invalid_payment_fields_are_a_400(
    api: httpx.Client, bad_api: httpx.Client, emulator: Emulator, body: dict[str, Any]
) -> None:
    case = started_case(emulator, api)

    response = bad_api.post(f"/cases/{case.id}/payments", json={**payment_body(100), **body})

    assert response.status_code == 400
    assert case.payments == []


def test_date_only_payment_dates_are_accepted(
    bad_api: httpx.Client, api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)

    response = bad_api.post(f"/cases/{case.id}/payments", json={**payment_body(100), "date": "2025-01-15"})

    assert response.json()["date"].startswith("2025-01-15T00:00:00")


def test_payments_are_refused_before_the_case_is_started(api: httpx.Client, emulator: Emulator) -> None:
    case = emulator.new_assignment()[0]

    assert pay(api, case, 100).status_code == 400


def test_close_case_closes_only_when_the_payment_settles(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    partial = pay(api, case, 10, closeCase=True).json()
    settling = pay(api, case, float(case.remainder), closeCase=True).json()

    assert (partial["caseClosed"], partial["closeCode"]) == (False, None)
    assert (settling["caseClosed"], settling["closeCode"], settling["remainingAmount"]) == (True, "Paid", 0)
    assert api.get(f"/cases/{case.id}").json()["closeCode"] == "Paid"


def paid_and_closed(api: httpx.Client, emulator: Emulator) -> tuple[Case, str]:
    case = started_case(emulator, api)
    payment_id = pay(api, case, float(case.remainder), closeCase=True).json()["paymentId"]
    return case, payment_id


def test_lowering_a_payment_on_a_paid_case_needs_reopen_consent(
    api: httpx.Client, emulator: Emulator
) -> None:
    case, payment_id = paid_and_closed(api, emulator)
    edit = payment_body(10)

    refused = api.put(f"/cases/{case.id}/payments/{payment_id}", json=edit)
    consented = api.put(f"/cases/{case.id}/payments/{payment_id}", json={**edit, "reopenCaseIfNeeded": True})

    assert refused.status_code == 409
    assert refused.json()["businessErrors"][0]["type"] == "ReopenRequired"
    assert consented.json()["grossAmount"] == 10
    assert api.get(f"/cases/{case.id}").json()["lifecycle"] == "Active"


def test_deleting_a_payment_on_a_paid_case_needs_reopen_consent(
    api: httpx.Client, emulator: Emulator
) -> None:
    case, payment_id = paid_and_closed(api, emulator)

    refused = api.delete(f"/cases/{case.id}/payments/{payment_id}")
    deleted = api.delete(f"/cases/{case.id}/payments/{payment_id}", params={"reopenCaseIfNeeded": "true"})

    assert refused.status_code == 409
    assert deleted.status_code == 204
    case_body = api.get(f"/cases/{case.id}").json()
    assert (case_body["lifecycle"], case_body["closeCode"]) == ("Active", None)
    assert api.get(f"/cases/{case.id}/payments").json() == []


def test_editing_a_payment_recomputes_the_split(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    payment_id = pay(api, case, 100).json()["paymentId"]

    response = api.put(f"/cases/{case.id}/payments/{payment_id}", json=payment_body(200))

    stored = emulator.state.payments[payment_id]
    assert response.json()["grossAmount"] == 200
    assert stored.payout_creditor + stored.payout_partner == 200
    assert response.json()["dateUpdated"] is not None


def test_invoiced_payments_are_frozen(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    payment_id = pay(api, case, 100).json()["paymentId"]
    emulator.invoice_payment(payment_id)

    edit = api.put(f"/cases/{case.id}/payments/{payment_id}", json=payment_body(50))
    delete = api.delete(f"/cases/{case.id}/payments/{payment_id}")

    assert edit.status_code == delete.status_code == 422
    assert delete.json()["businessErrors"][0]["type"] == "PaymentInvoiced"


def test_unknown_payment_is_a_404(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    other = started_case(emulator, api)
    payment_id = pay(api, other, 100).json()["paymentId"]

    assert api.delete(f"/cases/{case.id}/payments/{payment_id}").status_code == 404


def test_a_payment_extends_the_exclusive_period_by_twelve_months(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    day = emulator.clock.now().date().isoformat()

    pay(api, case, 100, date=f"{day}T00:00:00Z")
    period = api.get(f"/cases/{case.id}/exclusive-period").json()

    assert period["extensions"][-1]["type"] == "Payment"
    assert 360 <= period["daysRemaining"] <= 366


def test_amounts_are_kept_as_sent_even_in_a_currency_without_cents(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)
    case.currency = "JPY"

    body = pay(api, case, 1.01).json()

    assert body["paymentAmount"] == 1.01
    assert case.payments[0].amount == Decimal("1.01")
