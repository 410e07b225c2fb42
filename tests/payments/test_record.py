"""Recording a payment on the case page: the estimate, the guards, one payment per form, Debitura's answer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from cases.sync import case_refresh
from debitura.enums import PaymentRecipient
from outbox.models import OutboxAction
from partnerportal.templatetags.portal import money
from payments.actions import payment_record
from payments.models import Payment
from payments.services import partner_revenue_shares, payment_split_preview
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db


def form_data(case: Case, **values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "token": "tok-pay-1",
        "date": timezone.localdate().isoformat(),
        "amount": "100",
        "recipient": "CollectionPartner",
        "commission_status": "",
    }
    data.update(values)
    return data


def post(client, case, data, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("payments:record", args=[case.id]), data, headers=headers)


def remote_payments(emulator, case):
    return emulator.state.cases[str(case.pk)].payments


def test_the_estimate_matches_the_split_the_emulator_computes(
    team_agent, cases_by_lifecycle, relay, emulator, sync_client
):
    cases = [c for c in cases_by_lifecycle("Active") if c.success_fee is not None]
    assert len(cases) >= 5
    shares = partner_revenue_shares()
    for i, case in enumerate(cases):
        amount = Decimal("1234") if case.currency == "JPY" else Decimal("987.65") + i
        preview = payment_split_preview(case=case, amount=amount, shares=shares)
        action = payment_record(
            case=case,
            actor=team_agent,
            date=timezone.localdate(),
            amount=amount,
            recipient="CollectionPartner",
            confirmed=True,  # some amounts are above a small remainder
            token=f"tok-split-{i}",
        )
        relay()
        payment = Payment.objects.get(pk=reload(action).payload["payment_id"])
        remote = emulator.state.payments[str(payment.remote_id)]
        assert (payment.payout_creditor, payment.payout_partner) == (preview.creditor, preview.agency_fee)
        assert (remote.payout_creditor, remote.payout_partner) == (preview.creditor, preview.agency_fee)
        assert remote.platform_share == preview.debitura_share
        case.refresh_from_db()
        assert case.remainder == preview.remainder_after
    phases = {c.engagement_phase for c in cases}
    assert "Pre-legal" in phases


def test_an_explicit_split_estimate_matches_the_emulators_share(team_agent, active_case, relay, emulator):
    shares = partner_revenue_shares()
    preview = payment_split_preview(
        case=active_case,
        amount=Decimal("100"),
        shares=shares,
        payout_creditor=Decimal("70"),
        payout_partner=Decimal("30"),
    )
    action = payment_record(
        case=active_case,
        actor=team_agent,
        date=timezone.localdate(),
        amount=Decimal("100"),
        recipient="CollectionPartner",
        payout_creditor=Decimal("70"),
        payout_partner=Decimal("30"),
        token="tok-explicit",
    )
    relay()
    payment = Payment.objects.get(pk=reload(action).payload["payment_id"])
    assert emulator.state.payments[str(payment.remote_id)].platform_share == preview.debitura_share
    assert (preview.creditor, preview.agency_fee) == (Decimal("70"), Decimal("30"))


def test_the_live_preview_shows_the_estimate_and_reads_me_once(agent_client, active_case, emulator):
    url = reverse("payments:preview", args=[active_case.id])
    shares = partner_revenue_shares()
    expected = payment_split_preview(case=active_case, amount=Decimal("250"), shares=shares)

    html = agent_client.get(url, {"amount": "250"}, headers={"HX-Request": "true"}).content.decode()
    agent_client.get(url, {"amount": "260"}, headers={"HX-Request": "true"})

    assert "Estimate" in html
    assert money(expected.agency_fee, active_case.currency) in html
    assert money(expected.remainder_after, active_case.currency) in html
    assert len(emulator.requests(method="GET", template="/me")) == 1  # cached after the first read


@pytest.mark.parametrize("amount", ["", "abc", "0", "-3", "1e400", "NaN"])
def test_the_preview_without_a_usable_amount_asks_for_one(agent_client, active_case, emulator, amount):
    url = reverse("payments:preview", args=[active_case.id])
    assert "Enter an amount" in agent_client.get(url, {"amount": amount}).content.decode()


def test_the_estimate_falls_back_to_debituras_default_share_when_me_fails(active_case, emulator, monkeypatch):
    import payments.services
    from debitura.errors import TransientError

    def down():
        raise TransientError("down", ambiguous=False)

    monkeypatch.setattr(payments.services, "get_client", down)
    shares = partner_revenue_shares()
    assert (shares.pre_legal, shares.legal, shares.known) == (Decimal("0.40"), Decimal("0.20"), False)


def test_the_case_page_shows_the_form_with_the_currency(agent_client, team_agent, active_case):
    html = agent_client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    assert 'id="action-payment"' in html
    assert f"Amount ({active_case.currency})" in html
    assert "Close the case as Paid if this settles it" in html
    assert "Advanced: set the split yourself" in html


def test_an_amount_above_the_remainder_asks_for_confirmation_first(client, team_agent, active_case, relay):
    client.force_login(team_agent)
    above = active_case.remainder + 50
    first = post(client, active_case, form_data(active_case, amount=str(above)))

    assert "above the case&#x27;s remainder" in first.content.decode()
    assert not OutboxAction.objects.exists()

    confirmed = post(client, active_case, form_data(active_case, amount=str(above), confirmed="1"))
    assert confirmed.status_code == 200
    assert OutboxAction.objects.get().payload["amount"] == str(above)


def test_the_same_amount_within_seven_days_asks_whether_it_is_a_duplicate(client, team_agent, active_case):
    client.force_login(team_agent)
    payment_record(
        case=active_case,
        actor=team_agent,
        date=timezone.localdate() - timedelta(days=3),
        amount=Decimal("75"),
        recipient="CollectionPartner",
        token="tok-earlier",
    )

    again = post(client, active_case, form_data(active_case, amount="75", token="tok-again"))
    html = again.content.decode()
    assert "Is this a duplicate?" in html
    assert OutboxAction.objects.count() == 1

    other_amount = post(client, active_case, form_data(active_case, amount="76", token="tok-other"))
    assert "Is this a duplicate?" not in other_amount.content.decode()
    assert OutboxAction.objects.count() == 2


def test_the_same_amount_more_than_seven_days_apart_is_not_questioned(client, team_agent, active_case):
    client.force_login(team_agent)
    payment_record(
        case=active_case,
        actor=team_agent,
        date=timezone.localdate() - timedelta(days=8),
        amount=Decimal("75"),
        recipient="CollectionPartner",
        token="tok-earlier",
    )
    response = post(client, active_case, form_data(active_case, amount="75", token="tok-later"))
    assert "Is this a duplicate?" not in response.content.decode()
    assert OutboxAction.objects.count() == 2


def test_a_double_submit_of_the_same_form_records_one_payment(
    client, team_agent, active_case, relay, emulator
):
    client.force_login(team_agent)
    before = len(remote_payments(emulator, active_case))
    data = form_data(active_case, amount="40", token="tok-double")

    first = post(client, active_case, data, htmx=False)
    second = post(client, active_case, data, htmx=False)  # the browser retried, or a double click
    relay()

    assert first.status_code == second.status_code == 302
    assert "Is this a duplicate?" not in client.get(second["Location"]).content.decode()
    assert OutboxAction.objects.count() == 1
    assert Payment.objects.filter(case=active_case, amount=Decimal("40")).count() == 1
    assert len(remote_payments(emulator, active_case)) == before + 1


def test_a_double_submit_after_confirming_a_guard_records_one_payment(client, team_agent, active_case, relay):
    client.force_login(team_agent)
    data = form_data(active_case, amount=str(active_case.remainder + 1), token="tok-double-confirmed")
    post(client, active_case, data)
    post(client, active_case, {**data, "confirmed": "1"})
    post(client, active_case, {**data, "confirmed": "1"})
    assert OutboxAction.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field_error"),
    [
        ({"date": (timezone.localdate() + timedelta(days=1)).isoformat()}, "Cannot be in the future."),
        ({"amount": "0"}, "greater than or equal to 0.01"),
        ({"amount": "-5"}, "greater than or equal to 0.01"),
        ({"recipient": "Creditor"}, "Say whether the creditor has paid our fee on it."),
        ({"payout_creditor": "60"}, "Give both parts of the split, or neither."),
        ({"payout_creditor": "60", "payout_partner": "30"}, "The two parts add up to 90"),
        ({"recipient": "Somebody"}, "Select a valid choice."),
        ({"amount": "123456789012345678901"}, "no more than 20 digits"),
        # Python's Decimal reads these; an agent typing them meant something else.
        ({"amount": "1e30"}, "plain digits"),
        ({"amount": "1_000"}, "plain digits"),
        ({"amount": "\uff11\uff10\uff10"}, "plain digits"),  # full-width 100
        ({"amount": "1,000"}, "plain digits"),
        ({"date": "1900-01-01"}, "Cannot be before"),
    ],
)
def test_invalid_input_is_refused_next_to_the_field_and_nothing_is_written(
    client, team_agent, active_case, values, field_error
):
    client.force_login(team_agent)
    response = post(client, active_case, form_data(active_case, **values))
    assert field_error in response.content.decode()
    assert not OutboxAction.objects.exists()
    assert not Payment.objects.filter(state=Payment.State.PENDING).exists()


def test_a_currency_without_decimals_takes_whole_amounts_only(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(currency="JPY")
    active_case.refresh_from_db()
    client.force_login(team_agent)
    response = post(client, active_case, form_data(active_case, amount="100.5"))
    assert "JPY amounts have no decimals." in response.content.decode()
    assert not OutboxAction.objects.exists()


def test_the_commission_status_is_dropped_unless_the_creditor_received_it(client, team_agent, active_case):
    client.force_login(team_agent)
    post(client, active_case, form_data(active_case, commission_status="Unpaid"))
    assert OutboxAction.objects.get().payload["commission_status"] == ""


def test_without_javascript_a_guard_asks_on_the_whole_page_with_the_estimate(client, team_agent, active_case):
    client.force_login(team_agent)
    above = active_case.remainder + 1
    html = post(client, active_case, form_data(active_case, amount=str(above)), htmx=False).content.decode()
    assert "<html" in html
    assert "above the case&#x27;s remainder" in html
    assert "Remainder after this payment" in html
    assert not OutboxAction.objects.exists()


def test_without_javascript_errors_come_back_on_the_whole_page(client, team_agent, active_case):
    client.force_login(team_agent)
    response = post(client, active_case, form_data(active_case, amount="0"), htmx=False)
    html = response.content.decode()
    assert "<html" in html
    assert "greater than or equal to 0.01" in html


def test_a_form_sent_back_with_an_error_keeps_the_estimate_for_the_amount_typed(
    client, team_agent, active_case
):
    client.force_login(team_agent)
    html = post(
        client, active_case, form_data(active_case, amount="10", recipient="Creditor")
    ).content.decode()
    assert "Say whether the creditor has paid our fee on it." in html
    assert "Remainder after this payment" in html
    assert "Enter an amount to see the estimated split." not in html


def test_a_recorded_payment_shows_pending_then_confirmed_with_debituras_id_and_the_new_remainder(
    client, team_agent, active_case, relay
):
    client.force_login(team_agent)
    remainder = active_case.remainder
    response = post(client, active_case, form_data(active_case, amount="30"))
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html
    assert "payment-state-pending" in html

    relay()
    payment = Payment.objects.get(case=active_case, amount=Decimal("30"))
    page = client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    assert payment.state == Payment.State.CONFIRMED
    assert f"Debitura id {payment.remote_id}" in page
    active_case.refresh_from_db()
    assert active_case.remainder == remainder - 30


def test_a_payment_debitura_refuses_shows_failed_with_its_reason(
    client, team_agent, active_case, relay, emulator
):
    client.force_login(team_agent)
    post(client, active_case, form_data(active_case, amount="30"))
    emulator.withdraw(str(active_case.pk))  # closed at Debitura before the relay sends it

    relay()

    payment = Payment.objects.get(case=active_case, amount=Decimal("30"))
    assert payment.state == Payment.State.FAILED
    page = client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    assert "Debitura refused:" in page
    assert "Cannot register a payment" in page


def test_debituras_warnings_are_shown_and_kept_after_a_refresh(
    client, team_agent, active_case, relay, sync_client
):
    client.force_login(team_agent)
    data = form_data(active_case, amount="50", payout_creditor="0", payout_partner="50")
    post(client, active_case, data)
    relay()

    payment = Payment.objects.get(case=active_case, amount=Decimal("50"))
    assert payment.warnings == ["The payout split gives the creditor nothing: check the split."]
    case_refresh(case_id=str(active_case.pk), client=sync_client)
    payment.refresh_from_db()
    assert payment.warnings == ["The payout split gives the creditor nothing: check the split."]
    page = client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    assert "Debitura warns: The payout split gives the creditor nothing" in page


def test_close_the_case_closes_it_only_when_the_payment_settles_it(
    client, team_agent, active_case, relay, emulator
):
    client.force_login(team_agent)
    remote = emulator.state.cases[str(active_case.pk)]
    partial = active_case.remainder - 10
    post(client, active_case, form_data(active_case, amount=str(partial), close_case="on", token="tok-part"))
    relay()
    assert remote.lifecycle == "Active"
    assert Case.objects.get(pk=active_case.pk).lifecycle == "Active"

    post(client, active_case, form_data(active_case, amount="10", close_case="on", token="tok-rest"))
    relay()
    assert (remote.lifecycle, remote.close_code) == ("Closed", "Paid")
    assert Case.objects.get(pk=active_case.pk).lifecycle == "Closed"


def test_a_settling_payment_without_close_the_case_leaves_it_open(
    client, team_agent, active_case, relay, emulator
):
    client.force_login(team_agent)
    post(client, active_case, form_data(active_case, amount=str(active_case.remainder), token="tok-all"))
    relay()
    assert emulator.state.cases[str(active_case.pk)].lifecycle == "Active"
    assert emulator.state.cases[str(active_case.pk)].remainder == 0


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 1.0},  # a 500: nothing applied
        {"timeout_rate": 1.0},  # applied, the answer lost
        {"drop_rate": 1.0},  # applied, the connection dropped
    ],
)
def test_a_transient_failure_then_success_leaves_exactly_one_payment_at_the_emulator(
    client, team_agent, active_case, relay, emulator, faults
):
    client.force_login(team_agent)
    before = len(remote_payments(emulator, active_case))
    post(client, active_case, form_data(active_case, amount="33", token="tok-transient"))
    emulator.set_faults(paths=["/cases/{id}/payments"], methods=["POST"], **faults)

    relay()
    action = OutboxAction.objects.get()
    assert reload(action).state == OutboxAction.State.PENDING
    emulator.clear_faults()
    relay(now=reload(action).next_attempt_at + timedelta(seconds=1))

    assert reload(action).state == OutboxAction.State.DONE
    assert len(remote_payments(emulator, active_case)) == before + 1
    keys = {r.idempotency_key for r in emulator.requests(method="POST", template="/cases/{id}/payments")}
    assert keys == {"tok-transient"}
    assert Payment.objects.get(case=active_case, amount=Decimal("33")).state == Payment.State.CONFIRMED


def test_a_viewer_cannot_record_or_preview(client, viewer, active_case):
    client.force_login(viewer)
    assert post(client, active_case, form_data(active_case)).status_code == 403
    assert client.get(reverse("payments:preview", args=[active_case.id])).status_code == 403
    assert not OutboxAction.objects.exists()


def test_recording_takes_only_post(agent_client, active_case):
    assert agent_client.get(reverse("payments:record", args=[active_case.id])).status_code == 405


def test_the_suites_check_catches_a_payment_recorded_twice():
    from debitura.emulator import Emulator
    from debitura.types import PaymentInput
    from tests.fixtures.emulator import assert_no_duplicated_payments
    from tests.fixtures.gateway import make_client

    emu = Emulator(cases=20, seed=42, api_key="test-api-key")
    seeded = set(emu.state.payments)
    case = next(c for c in emu.state.cases.values() if c.lifecycle == "Active")
    payment = PaymentInput(
        date=timezone.localdate(), amount=Decimal("10"), recipient=PaymentRecipient.COLLECTION_PARTNER
    )
    with make_client(emu.transport()) as client:
        client.create_payment(case.id, payment, idempotency_key="key-1")
        client.create_payment(case.id, payment, idempotency_key="key-1")  # replayed: still one
        assert_no_duplicated_payments(emu, seeded)
        client.create_payment(case.id, payment, idempotency_key="key-2")  # a second payment
    with pytest.raises(AssertionError, match="duplicated payments"):
        assert_no_duplicated_payments(emu, seeded)
