"""The case list and the batch lookup in a real browser: htmx swaps, the URL, the back button, a
compact table (one line per case) and rows that follow their cases live."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, LifecycleChoices
from tests.fixtures.case_list import make_cases
from tests.fixtures.pages import assert_page_sound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_in_the_search_box_updates_the_table_and_the_url(page, sign_in, agent):
    make_cases(3, debtor_name="Jensen Tømrer ApS")
    target = make_cases(1, debtor_name="Hansen Byg ApS")[0]
    sign_in(agent)
    page.goto("/cases/")
    rows = page.locator(".case-table tbody tr")
    assert rows.count() == 4
    page.get_by_label("Search cases").press_sequentially("hansen", delay=30)
    page.wait_for_url(re.compile(r"q=hansen"))
    rows.first.get_by_text(target.reference).wait_for()
    assert rows.count() == 1
    assert page.locator("h1").inner_text() == "Cases"  # the page stayed; only the results moved


def test_a_tab_and_a_filter_swap_the_results_and_back_returns_to_the_previous_list(page, sign_in, agent):
    make_cases(2, lifecycle=LifecycleChoices.PENDING_VERIFICATION)
    make_cases(3, lifecycle=LifecycleChoices.ACTIVE, currency="DKK", gross_amount=Decimal("10"))
    make_cases(1, lifecycle=LifecycleChoices.ACTIVE, currency="EUR")
    sign_in(agent)
    page.goto("/cases/")
    page.get_by_role("link", name=re.compile(r"^New assignments")).click()
    page.wait_for_url(re.compile(r"tab=new"))
    page.locator(".case-table tbody tr").nth(1).wait_for()
    assert page.locator(".case-table tbody tr").count() == 2
    assert page.locator(".badge-new").count() == 2

    page.get_by_role("link", name=re.compile(r"^Active")).click()
    page.wait_for_url(re.compile(r"tab=active"))
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Currency").fill("DKK")
    page.get_by_label("Currency").press("Tab")  # change event: the form asks for the results
    page.wait_for_url(re.compile(r"currency=DKK"))
    assert "tab=active" in page.url
    page.wait_for_function("document.querySelectorAll('.case-table tbody tr').length === 3")

    page.go_back()
    page.wait_for_url(lambda url: "currency=DKK" not in url and "tab=active" in url)
    page.wait_for_function("document.querySelectorAll('.case-table tbody tr').length === 4")


def test_batch_lookup_lists_matches_and_misses(page, sign_in, agent, monkeypatch, sync_client):
    import debitura.client

    # Misses are asked of Debitura: here the in-process emulator, which has no AG-MISSING either.
    monkeypatch.setattr(debitura.client, "get_client", lambda: sync_client)
    known = make_cases(1, partner_reference="AG-7001")[0]
    sign_in(agent)
    page.goto("/cases/")
    page.get_by_role("link", name="Batch lookup by agency reference").click()
    page.get_by_label("Agency references").fill("AG-7001\nAG-MISSING")
    # Wait on the answer itself: a server error shows as its status at once, not as a timeout.
    with page.expect_response(lambda r: r.request.method == "POST" and "/cases/lookup/" in r.url) as answer:
        page.get_by_role("button", name="Look up").click()
    assert answer.value.status == 200
    result = page.get_by_role("region", name="Lookup result")
    expect(result.get_by_role("link", name=known.reference, exact=True)).to_be_visible()
    expect(result.locator(".lookup-misses")).to_have_text("AG-MISSING")


def test_more_than_100_references_get_an_error_next_to_the_field(page, sign_in, agent):
    sign_in(agent)
    page.goto("/cases/lookup/")
    page.get_by_label("Agency references").fill("\n".join(f"AG-{n}" for n in range(120)))
    page.get_by_role("button", name="Look up").click()
    assert "look up at most 100" in page.locator("#references-error").inner_text()


def list_cases_of_every_kind() -> list[Case]:
    """Rows that strain a line: long names, every marker at once, seven-digit sums, exclusivity."""
    now = timezone.now()
    long_debtor = "Aktieselskabet Meget Lang Skibsværftsvirksomhed og Sønner i Likvidation"
    long_creditor = "Nordisk Maskinudlejning og Entreprenørservice Holding A/S (Division Syd)"
    cases = make_cases(
        3,
        debtor_name=long_debtor,
        debtor_country_code="DK",
        creditor_name=long_creditor,
        partner_reference="AG-2026-SKIBSVÆRFT-LIKVIDATION-000123",
        gross_amount=Decimal("1234567.89"),
        remainder=Decimal("1234567.89"),
        currency="NOK",
        exclusive_period_end=now,
        engagement_phase="Enforcement",
    )
    cases += make_cases(
        3,
        lifecycle=LifecycleChoices.PENDING_VERIFICATION,
        dispute_status="Yes, the claim is disputed",
        debtor_name="Jensen",
        creditor_name="Hansen",
        unread_messages=2,
    )
    cases += make_cases(2, lifecycle=LifecycleChoices.NEEDS_ADDITIONAL_DETAILS, engagement_phase="Pre-legal")
    closed = LifecycleChoices.CLOSED
    cases += make_cases(2, lifecycle=closed, close_code="DisputedLegalActionDeclinedByClient")
    return cases


@pytest.mark.parametrize("user", ["agent", "supervisor"])
def test_the_list_is_one_line_per_case_at_1440_and_never_scrolls_sideways(page, sign_in, request, user):
    list_cases_of_every_kind()
    sign_in(request.getfixturevalue(user))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/cases/")
    rows = page.locator(".case-table tbody tr")
    expect(rows).to_have_count(10)
    line = rows.first.locator("td").last.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    heights = [row.bounding_box()["height"] for row in rows.all()]
    assert max(heights) < 2 * line, (line, heights)  # one line of text each, whatever it holds
    assert_page_sound(page)  # at 1280 and 1440: nothing sticks out, nothing scrolls sideways
    # A name too long for its column is cut with an ellipsis and is whole in its title.
    long_row = rows.filter(has_text="Skibsværft").first
    debtor = long_row.locator(".col-debtor .cut")
    expect(debtor).to_have_attribute("title", re.compile(r"i Likvidation$"))
    assert debtor.evaluate("e => e.scrollWidth > e.clientWidth")
    assert debtor.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    # Money is never cut: the widest sum fits its column.
    for cell in long_row.locator("td.num").all():
        assert cell.evaluate("e => e.scrollWidth <= e.clientWidth"), cell.inner_text()


def test_a_row_shows_its_unread_messages_live_and_keeps_its_tick_and_the_scroll(page, sign_in, supervisor):
    cases = make_cases(40)
    sign_in(supervisor)
    page.set_viewport_size({"width": 1440, "height": 600})
    page.goto("/cases/?size=50")
    target = cases[30]
    row = page.locator(f"#case-row-{target.id}")
    row.get_by_role("checkbox").check()
    row.scroll_into_view_if_needed()
    scrolled = page.evaluate("scrollY")
    assert scrolled > 0
    expect(row).not_to_contain_text("unread")
    expect(page.locator("#nav-unread")).to_have_text("")

    # A sync or a webhook brought two messages from the creditor (cases.unread keeps the count).
    Case.objects.filter(pk=target.pk).update(unread_messages=2)
    marker = row.locator(".badge-unread")
    expect(marker).to_have_text("✉ 2 unread", timeout=15_000)
    expect(row.locator(".markers")).to_have_attribute("title", "2 unread messages")
    expect(row.get_by_role("checkbox")).to_be_checked()  # the agent's tick survives the redraw
    assert page.evaluate("scrollY") == scrolled
    expect(page.locator("#nav-unread")).to_contain_text("2 unread")  # the navigation follows
    assert page.url.endswith("/cases/?size=50")
