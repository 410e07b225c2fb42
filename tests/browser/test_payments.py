"""Recording a payment in a real browser: the live estimate, pending at once, confirmed after the relay."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

import payments.services
from cases.models import Case
from outbox.relay import outbox_relay_due
from partnerportal.templatetags.portal import money
from payments.models import Payment
from payments.services import partner_revenue_shares, payment_split_preview
from tests.browser.case_page import LIVE_MS, open_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case_page(page, sign_in, team_agent, queued_relays, sync_client, monkeypatch):
    """An agent of Debitura's team on a case page; GET /me goes to the in-process emulator."""
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(payments.services, "get_client", lambda: sync_client)

    def go(case: Case):
        sign_in(team_agent)
        page.goto(f"/cases/{case.id}/")
        open_entry(page, "Record a payment")
        return page

    return go


def test_recording_a_payment_shows_the_estimate_then_pending_then_confirmed_with_the_new_remainder(
    case_page, active_case, sync_client, emulator
):
    page = case_page(active_case)
    form = page.locator("#action-payment")
    amount = Decimal("120")
    expected = payment_split_preview(case=active_case, amount=amount, shares=partner_revenue_shares())

    form.get_by_label("Amount").fill(str(amount))
    preview = form.locator("#payment-preview")
    expect(preview).to_contain_text("Estimate")
    expect(preview.locator('[data-field="agency_fee"]')).to_have_text(
        money(expected.agency_fee, active_case.currency)
    )
    expect(preview.locator('[data-field="remainder_after"]')).to_have_text(
        money(expected.remainder_after, active_case.currency)
    )
    form.get_by_label("The agency (us)").check()
    form.get_by_role("button", name="Record payment").click()

    row = page.locator("#case-payments tr.payment-pending")
    expect(row).to_contain_text(money(amount, active_case.currency))
    expect(row.locator(".badge")).to_have_text("Pending")
    expect(page.locator("#action-payment").get_by_label("Amount")).to_have_value("")  # a fresh form

    outbox_relay_due(client=sync_client)

    # No reload: the page polls until the action is through.
    confirmed = page.locator("#case-payments tr.payment-confirmed").first
    expect(confirmed.locator(".badge")).to_have_text("Confirmed", timeout=LIVE_MS)
    payment = Payment.objects.get(case=active_case, amount=amount)
    expect(confirmed).to_contain_text(f"Debitura id {payment.remote_id}")
    new_remainder = Case.objects.get(pk=active_case.pk).remainder
    assert new_remainder == active_case.remainder - amount
    expect(page.locator("#case-payments [data-remainder]")).to_have_text(
        money(new_remainder, active_case.currency)
    )
    assert [p.amount for p in emulator.state.cases[str(active_case.pk)].payments].count(amount) == 1


def test_an_amount_above_the_remainder_asks_before_recording(case_page, active_case):
    page = case_page(active_case)
    form = page.locator("#action-payment")
    form.get_by_label("Amount").fill(str(active_case.remainder + 100))
    form.get_by_label("The agency (us)").check()
    form.get_by_role("button", name="Record payment").click()

    expect(page.locator("#action-payment")).to_contain_text("above the case's remainder")
    assert not Payment.objects.filter(case=active_case).exists()
    page.get_by_role("button", name="Record it anyway").click()
    expect(page.locator("#case-payments tr.payment-pending")).to_have_count(1)


def test_the_commission_question_shows_only_when_the_creditor_received_the_money(case_page, active_case):
    page = case_page(active_case)
    form = page.locator("#action-payment")
    question = form.locator(".commission-field")
    expect(question).to_be_hidden()
    form.get_by_label("The creditor", exact=True).check()
    expect(question).to_be_visible()
    expect(question).to_contain_text("the creditor still owes us our fee")
    form.get_by_label("The agency (us)").check()
    expect(question).to_be_hidden()


def test_the_live_estimate_does_not_put_the_csrf_token_in_its_url(case_page, active_case):
    page = case_page(active_case)
    form = page.locator("#action-payment")

    with page.expect_request(lambda request: "/preview" in request.url) as asked:
        form.get_by_label("Amount").fill("120")

    # A GET's query string lands in access logs and proxies; the token must stay in the POST body.
    assert "amount=120" in asked.value.url
    assert "csrfmiddlewaretoken" not in asked.value.url
