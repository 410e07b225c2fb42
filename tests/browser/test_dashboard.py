"""The dashboard in a real browser: charts drawn under the Content-Security-Policy, the period
chooser swapping the figures in with htmx and keeping the address, and the print layout."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.periods import month_start
from dashboard.summaries import dashboard_summaries_refresh
from tests.browser.test_content_security_policy import Violations
from tests.fixtures.factories import CaseFactory, PaymentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recovered(agent):
    today = timezone.localdate()
    eur = CaseFactory(currency="EUR", assigned_to=agent)
    dkk = CaseFactory(currency="DKK")
    PaymentFactory(case=eur, date=today, amount=Decimal("120.00"))
    PaymentFactory(case=eur, date=month_start(today, 2) + timedelta(days=3), amount=Decimal("80.00"))
    PaymentFactory(case=dkk, date=month_start(today, 1) + timedelta(days=3), amount=Decimal("1500.00"))
    dashboard_summaries_refresh()


def test_a_supervisor_changes_the_period_and_the_charts_follow_without_a_violation(
    page, sign_in, supervisor, recovered
):
    violations = Violations(page)
    sign_in(supervisor)
    page.goto("/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    totals = page.locator("#recovered-totals-heading").locator("..")
    expect(totals).to_contain_text("120.00 EUR")
    expect(totals).not_to_contain_text("DKK")  # paid last month

    page.get_by_label("Period").select_option("3m")  # htmx: no button press needed
    page.wait_for_url(re.compile(r"\?period=3m"))
    expect(page.get_by_role("img", name="Recovered per month in DKK")).to_be_visible()
    expect(page.get_by_role("img", name="Recovered per month in EUR")).to_be_visible()
    expect(page.locator("#recovered-heading").locator("..")).to_contain_text("200.00 EUR")
    page.get_by_text("DKK per month as a table").click()
    expect(page.get_by_role("row", name=re.compile(r"1,500\.00 DKK"))).to_be_visible()

    page.emulate_media(media="print")
    expect(page.locator(".portal-header")).to_be_hidden()
    expect(page.locator(".period-chooser")).to_be_hidden()
    assert violations.all() == []


def test_without_javascript_the_chooser_is_a_plain_form(browser, live_server, supervisor, recovered):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("supervisor")
        page.get_by_label("Password").fill("pw-supervisor")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Period").select_option("12m")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"\?period=12m"))
        expect(page.locator(".dash-period")).to_contain_text("Last 12 months")
    finally:
        context.close()
