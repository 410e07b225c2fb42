"""Correcting and deleting a payment through the outbox: reopen consent (409), invoiced and frozen (422)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions import ActionInvalid
from cases.models import Case
from outbox.models import OutboxAction
from payments.actions import payment_correct, payment_record
from payments.models import Payment
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db

State = OutboxAction.State


def recorded(case, actor, relay, amount, *, close_case=False, token="tok-rec") -> Payment:  # noqa: S107
    """A payment recorded through the outbox and confirmed by the emulator."""
    action = payment_record(
        case=case,
        actor=actor,
        date=timezone.localdate(),
        amount=Decimal(amount),
        recipient="CollectionPartner",
        close_case=close_case,
        token=token,
    )
    relay()
    payment = Payment.objects.get(pk=reload(action).payload["payment_id"])
    assert payment.state == Payment.State.CONFIRMED
    return payment


def correct_data(payment: Payment, **values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "token": "tok-correct",
        "date": payment.date.isoformat(),
        "amount": str(payment.amount),
        "recipient": payment.recipient,
        "commission_status": payment.commission_status,
    }
    data.update(values)
    return data


def test_correcting_a_payment_relays_an_edit_and_the_new_amount_counts(
    client, team_agent, active_case, relay, emulator
):
    payment = recorded(active_case, team_agent, relay, "100")
    client.force_login(team_agent)
    remainder = Case.objects.get(pk=active_case.pk).remainder

    response = client.post(reverse("payments:correct", args=[payment.pk]), correct_data(payment, amount="80"))
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.PENDING, Decimal("80"))
    relay()

    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.CONFIRMED, Decimal("80"))
    assert emulator.state.payments[str(payment.remote_id)].amount == Decimal("80")
    assert Case.objects.get(pk=active_case.pk).remainder == remainder + 20


def test_a_sync_while_a_correction_is_pending_keeps_the_agents_new_amount(
    client, team_agent, active_case, relay, synced
):
    from cases.sync import case_refresh

    payment = recorded(active_case, team_agent, relay, "100")
    payment_correct(
        payment=payment,
        actor=team_agent,
        date=payment.date,
        amount=Decimal("80"),
        recipient=payment.recipient,
        token="tok-pending-correct",
    )

    case_refresh(case_id=str(active_case.pk), client=synced)  # Debitura still says 100

    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.PENDING, Decimal("80"))
    relay()
    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.CONFIRMED, Decimal("80"))


def test_the_correct_form_starts_with_the_payments_values_and_no_split(
    client, team_agent, active_case, relay
):
    payment = recorded(active_case, team_agent, relay, "100")
    assert payment.payout_partner is not None  # Debitura's computed split, kept here
    client.force_login(team_agent)
    form = client.get(reverse("payments:detail", args=[payment.pk])).context["correct_form"]
    assert form.initial["amount"] == Decimal("100")
    assert "payout_creditor" not in form.initial
    assert "payout_partner" not in form.initial


def test_deleting_a_payment_asks_once_then_removes_it_here_and_at_debitura(
    client, team_agent, active_case, relay, emulator
):
    payment = recorded(active_case, team_agent, relay, "100")
    client.force_login(team_agent)
    url = reverse("payments:delete", args=[payment.pk])

    ask = client.post(url, {"token": "tok-del"})
    assert "Delete this payment at Debitura?" in ask.content.decode()
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.PAYMENT_DELETE).exists()

    client.post(url, {"token": "tok-del", "confirmed": "1"})
    assert Payment.objects.get(pk=payment.pk).state == Payment.State.DELETING
    relay()

    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert str(payment.remote_id) not in emulator.state.payments


def test_no_negative_payments(client, team_agent, active_case, relay):
    payment = recorded(active_case, team_agent, relay, "100")
    client.force_login(team_agent)
    response = client.post(
        reverse("payments:correct", args=[payment.pk]), correct_data(payment, amount="-20")
    )
    assert response.status_code == 400
    assert "greater than or equal to 0.01" in response.content.decode()
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.PAYMENT_UPDATE).exists()


def settled_and_closed(case, actor, relay, emulator) -> Payment:
    remote = emulator.state.cases[str(case.pk)]
    payment = recorded(case, actor, relay, str(remote.remainder), close_case=True, token="tok-settle")
    assert (remote.lifecycle, remote.close_code) == ("Closed", "Paid")
    return payment


def test_a_correction_that_would_reopen_the_case_asks_and_the_consent_resends_it(
    client, team_agent, active_case, relay, emulator
):
    payment = settled_and_closed(active_case, team_agent, relay, emulator)
    remote = emulator.state.cases[str(active_case.pk)]
    original = payment.amount
    lower = original - 10
    client.force_login(team_agent)
    client.post(reverse("payments:correct", args=[payment.pk]), correct_data(payment, amount=str(lower)))
    relay()

    refused = OutboxAction.objects.get(kind=OutboxAction.Kind.PAYMENT_UPDATE)
    assert refused.state == State.FAILED
    assert refused.response["reopen_required"] is True
    payment.refresh_from_db()
    assert (payment.state, payment.amount) == (Payment.State.CONFIRMED, original)  # the old values back
    assert remote.lifecycle == "Closed"
    case_page = client.get(reverse("cases:detail", args=[active_case.id])).content.decode()
    assert "Debitura asks before reopening the case." in case_page
    detail = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert "Resend and reopen the case" in detail
    assert "Resending with your consent reopens the case to Active." in detail

    response = client.post(
        reverse("payments:consent", args=[payment.pk]), {"token": "tok-consent", "action": str(refused.pk)}
    )
    assert response.status_code == 302
    resent = OutboxAction.objects.get(idempotency_key="tok-consent")
    assert resent.payload["reopen_case_if_needed"] is True
    relay()

    assert reload(resent).state == State.DONE
    assert remote.lifecycle == "Active"
    assert emulator.state.payments[str(payment.remote_id)].amount == lower
    assert Case.objects.get(pk=active_case.pk).lifecycle == "Active"
    payment.refresh_from_db()
    assert payment.amount == lower


def test_a_delete_that_would_reopen_the_case_asks_and_the_consent_resends_it(
    client, team_agent, active_case, relay, emulator
):
    payment = settled_and_closed(active_case, team_agent, relay, emulator)
    client.force_login(team_agent)
    client.post(reverse("payments:delete", args=[payment.pk]), {"token": "tok-del", "confirmed": "1"})
    relay()
    refused = OutboxAction.objects.get(kind=OutboxAction.Kind.PAYMENT_DELETE)
    assert refused.state == State.FAILED
    assert Payment.objects.get(pk=payment.pk).state == Payment.State.CONFIRMED

    client.post(reverse("payments:consent", args=[payment.pk]), {"token": "tok-c", "action": str(refused.pk)})
    relay()

    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert emulator.state.cases[str(active_case.pk)].lifecycle == "Active"


def test_consent_for_a_change_no_longer_waiting_is_refused(client, team_agent, active_case, relay, emulator):
    payment = recorded(active_case, team_agent, relay, "100")
    client.force_login(team_agent)
    create = OutboxAction.objects.get()
    response = client.post(
        reverse("payments:consent", args=[payment.pk]), {"token": "tok-c", "action": str(create.pk)}
    )
    assert response.status_code == 400
    assert "no longer waiting for consent" in response.content.decode()


def test_an_invoiced_payment_is_frozen_and_says_why(client, team_agent, active_case, relay, emulator):
    payment = recorded(active_case, team_agent, relay, "100")
    emulator.invoice_payment(str(payment.remote_id))
    client.force_login(team_agent)
    client.post(reverse("payments:correct", args=[payment.pk]), correct_data(payment, amount="90"))
    relay()

    refused = OutboxAction.objects.get(kind=OutboxAction.Kind.PAYMENT_UPDATE)
    assert refused.state == State.FAILED
    payment.refresh_from_db()
    assert (payment.amount, payment.state) == (Decimal("100"), Payment.State.CONFIRMED)
    assert "invoiced" in payment.frozen_reason
    detail = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert "Frozen." in detail
    assert "can no longer be corrected or deleted" in detail
    assert 'id="payment-correct"' not in detail
    assert "Frozen: " in client.get(reverse("cases:detail", args=[active_case.id])).content.decode()

    with pytest.raises(ActionInvalid, match="frozen"):
        payment_correct(
            payment=payment,
            actor=team_agent,
            date=payment.date,
            amount=Decimal("90"),
            recipient="CollectionPartner",
        )
    assert emulator.state.payments[str(payment.remote_id)].amount == Decimal("100")


def test_deleting_an_invoiced_payment_is_refused_and_the_payment_stays(
    client, team_agent, active_case, relay, emulator
):
    payment = recorded(active_case, team_agent, relay, "100")
    emulator.invoice_payment(str(payment.remote_id))
    client.force_login(team_agent)
    client.post(reverse("payments:delete", args=[payment.pk]), {"token": "tok-del", "confirmed": "1"})
    relay()

    payment.refresh_from_db()
    assert payment.state == Payment.State.CONFIRMED
    assert payment.frozen_reason
    assert str(payment.remote_id) in emulator.state.payments


def test_a_viewer_sees_a_payment_but_cannot_change_it(client, viewer, team_agent, active_case, relay):
    payment = recorded(active_case, team_agent, relay, "100")
    client.force_login(viewer)
    detail = client.get(reverse("payments:detail", args=[payment.pk]))
    assert detail.status_code == 200
    assert 'id="payment-correct"' not in detail.content.decode()
    for name in ("correct", "delete", "consent"):
        assert client.post(reverse(f"payments:{name}", args=[payment.pk]), {"token": "t"}).status_code == 403
