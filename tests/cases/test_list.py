"""The case list: tabs, filters, search, sort, keyset pages, markers and the query budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.filters import SORTS
from cases.models import Case, LifecycleChoices
from cases.sla import business_time_between, sla_clock
from tests.fixtures.case_list import LIST, make_cases, references_in

pytestmark = pytest.mark.django_db


def test_tabs_show_live_counts_per_lifecycle_and_my_cases(agent_client, agent):
    make_cases(3, lifecycle=LifecycleChoices.PENDING_VERIFICATION)
    make_cases(2, lifecycle=LifecycleChoices.ACTIVE, assigned_to=agent)
    make_cases(1, lifecycle=LifecycleChoices.CLOSED, close_code="Paid")
    html = agent_client.get(LIST).content.decode()
    counts = dict(re.findall(r'>([A-Za-z ]+) <span class="tab-count">(\d+)</span>', html))
    assert counts == {
        "New assignments": "3",
        "Active": "2",
        "Paused": "0",
        "Needs details": "0",
        "Closed": "1",
        "All": "6",
        "My cases": "2",
    }


def test_a_tab_lists_only_its_lifecycle_and_my_cases_only_the_users(agent_client, agent):
    new = make_cases(2, lifecycle=LifecycleChoices.PENDING_VERIFICATION)
    mine = make_cases(1, lifecycle=LifecycleChoices.PAUSED, assigned_to=agent)
    make_cases(2, lifecycle=LifecycleChoices.ACTIVE)
    assert set(references_in(agent_client.get(LIST, {"tab": "new"}).content.decode())) == {
        c.reference for c in new
    }
    assert references_in(agent_client.get(LIST, {"tab": "mine"}).content.decode()) == [mine[0].reference]


def test_new_assignments_not_yet_opened_are_marked_new_with_the_sla_clock(agent_client):
    fresh = make_cases(1, lifecycle=LifecycleChoices.PENDING_VERIFICATION)[0]
    opened = make_cases(1, lifecycle=LifecycleChoices.PENDING_VERIFICATION, first_opened_at=timezone.now())[0]
    Case.objects.filter(id=fresh.id).update(date_created=timezone.now() - timedelta(hours=3))
    html = agent_client.get(LIST, {"tab": "new"}).content.decode()
    row = html[html.index(fresh.reference) : html.index("</tr>", html.index(fresh.reference))]
    assert "badge-new" in row
    other = html[html.index(opened.reference) : html.index("</tr>", html.index(opened.reference))]
    assert "badge-new" not in other
    assert "of 1 business day" in html


def test_business_time_leaves_out_weekends():
    friday_noon = datetime(2025, 1, 3, 12, tzinfo=UTC)
    monday_noon = datetime(2025, 1, 6, 12, tzinfo=UTC)
    with timezone.override(UTC):
        assert business_time_between(friday_noon, monday_noon) == timedelta(hours=24)
        assert business_time_between(friday_noon, friday_noon + timedelta(weeks=2)) == timedelta(days=10)
        clock = sla_clock(friday_noon, now=friday_noon + timedelta(hours=3, minutes=5))
        assert clock is not None
        assert clock.label == "3 h of 1 business day"
        assert not clock.overdue
        assert sla_clock(friday_noon, now=monday_noon - timedelta(hours=13)).label == "12 h of 1 business day"
        late = sla_clock(friday_noon, now=monday_noon + timedelta(hours=1))
        assert late is not None
        assert late.overdue


def test_an_overdue_new_assignment_gets_the_warning_colour(agent_client):
    case = make_cases(1, lifecycle=LifecycleChoices.PENDING_VERIFICATION)[0]
    Case.objects.filter(id=case.id).update(date_created=timezone.now() - timedelta(days=8))
    assert "sla-overdue" in agent_client.get(LIST).content.decode()


def test_amounts_are_formatted_in_their_currency(agent_client):
    make_cases(1, currency="JPY", gross_amount=Decimal("123456"), remainder=Decimal("1000"))
    make_cases(1, currency="KWD", gross_amount=Decimal("1.5"), remainder=Decimal("1.5"))
    html = agent_client.get(LIST).content.decode()
    assert "123,456 JPY" in html
    assert "1.500 KWD" in html


def test_filters_narrow_the_list_and_combine(agent_client):
    dkk_big = make_cases(1, currency="DKK", gross_amount=Decimal("5000"), debtor_country_code="DK")[0]
    make_cases(1, currency="DKK", gross_amount=Decimal("50"), debtor_country_code="DK")
    make_cases(1, currency="EUR", gross_amount=Decimal("5000"), debtor_country_code="DE")
    html = agent_client.get(LIST, {"currency": "dkk", "amount_min": "1000", "country": "dk"}).content.decode()
    assert references_in(html) == [dkk_big.reference]
    assert "1 case;" in html


def test_disputed_needs_info_and_date_filters(agent_client):
    disputed = make_cases(1, dispute_status="Yes, the claim is disputed", needs_info=True)[0]
    make_cases(1, dispute_status="No, the claim is not disputed")
    assert references_in(agent_client.get(LIST, {"disputed": "yes"}).content.decode()) == [disputed.reference]
    assert references_in(agent_client.get(LIST, {"needs_info": "yes"}).content.decode()) == [
        disputed.reference
    ]
    today = timezone.localdate().isoformat()
    assert disputed.reference in references_in(
        agent_client.get(LIST, {"created_from": today, "created_to": today}).content.decode()
    )


def test_test_cases_are_hidden_unless_asked_for(agent_client):
    test_case = make_cases(1, is_test_case=True)[0]
    assert test_case.reference not in agent_client.get(LIST).content.decode()
    assert test_case.reference in agent_client.get(LIST, {"test": "on"}).content.decode()


def test_an_invalid_filter_is_shown_next_to_its_field_and_ignored(agent_client):
    make_cases(2)
    html = agent_client.get(LIST, {"amount_min": "lots", "currency": "EURO"}).content.decode()
    assert 'class="field-error" id="amount_min-error"' in html
    assert 'class="field-error" id="currency-error"' in html
    assert len(references_in(html)) == 2


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{key}" for key in SORTS)])
def test_every_column_sorts_both_ways_with_the_id_as_tiebreak(agent_client, agent, sort):
    make_cases(3, gross_amount=Decimal("7"), debtor_name="Same")  # ties on most columns
    make_cases(2, gross_amount=Decimal("9"), debtor_name="Other", assigned_to=agent)
    first = references_in(agent_client.get(LIST, {"sort": sort}).content.decode())
    assert len(first) == 5
    assert references_in(agent_client.get(LIST, {"sort": sort}).content.decode()) == first  # stable


def test_sorting_by_amount_orders_the_rows(agent_client):
    small, big = make_cases(1, gross_amount=Decimal("5"))[0], make_cases(1, gross_amount=Decimal("500"))[0]
    assert references_in(agent_client.get(LIST, {"sort": "amount"}).content.decode()) == [
        small.reference,
        big.reference,
    ]
    assert references_in(agent_client.get(LIST, {"sort": "-amount"}).content.decode()) == [
        big.reference,
        small.reference,
    ]


@pytest.mark.parametrize("sort", ["-updated", "due", "-due", "assigned", "partner_reference"])
def test_keyset_pages_walk_every_case_once_forwards_and_backwards(agent_client, agent, sort):
    cases = make_cases(30) + make_cases(23, due_date=timezone.now(), assigned_to=agent, partner_reference="P")
    seen: list[str] = []
    pages: list[str] = []
    query = f"sort={sort}&size=25"
    while True:
        html = agent_client.get(f"{LIST}?{query}").content.decode()
        pages.append(query)
        seen += references_in(html)
        found = re.search(r'href="/cases/\?([^"]+)"[^>]*rel="next"', html)
        if not found:
            break
        query = found.group(1).replace("&amp;", "&")
    assert sorted(seen) == sorted(c.reference for c in cases)
    assert len(pages) == 3
    # Back from the last page lands on the middle page's rows.
    previous = re.search(r'href="/cases/\?([^"]+)"[^>]*rel="prev"', html)
    assert previous is not None
    back = references_in(
        agent_client.get(f"{LIST}?{previous.group(1).replace('&amp;', '&')}").content.decode()
    )
    assert back == seen[25:50]


def test_a_malformed_cursor_starts_over_at_the_first_page(agent_client):
    make_cases(3)
    assert len(references_in(agent_client.get(LIST, {"after": "%%%not-a-cursor"}).content.decode())) == 3


def test_search_matches_references_names_emails_and_phones_case_insensitively(agent_client, synced):
    case = Case.objects.exclude(debtor_phone="").filter(is_test_case=False).first()
    digits = "".join(ch for ch in case.debtor_phone if ch.isdigit())[-6:]
    for needle in (case.debtor_name.upper()[:6], case.debtor_email.upper(), digits, case.creditor_name):
        html = agent_client.get(LIST, {"q": needle}, headers={"HX-Request": "true", "HX-Trigger": "case-q"})
        assert case.reference in references_in(html.content.decode()), needle


def test_htmx_gets_only_the_results_and_the_state_inputs_out_of_band(agent_client):
    make_cases(2)
    response = agent_client.get(LIST, {"tab": "active", "sort": "amount"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-state" hx-swap-oob="true"' in html
    assert 'name="tab" value="active"' in html
    assert 'name="sort" value="amount"' in html


def test_without_javascript_the_same_url_renders_the_whole_page(agent_client):
    make_cases(2)
    html = agent_client.get(LIST, {"tab": "active", "currency": "EUR"}).content.decode()
    assert "<html" in html
    assert 'method="get" action="/cases/"' in html
    assert 'value="EUR"' in html


def test_enter_on_an_exact_reference_jumps_to_the_case(agent_client):
    case = make_cases(1, partner_reference="AG-4711")[0]
    Case.objects.filter(id=case.id).update(search_text=f"{case.reference} | ag-4711".lower())
    response = agent_client.get(LIST, {"q": "ag-4711"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.id])
    htmx = agent_client.get(
        LIST, {"q": case.reference.lower()}, headers={"HX-Request": "true", "HX-Trigger": "case-filters"}
    )
    assert htmx["HX-Redirect"] == reverse("cases:detail", args=[case.id])


def test_typing_never_jumps_it_lists_the_match(agent_client):
    case = make_cases(1)[0]
    response = agent_client.get(
        LIST, {"q": case.reference}, headers={"HX-Request": "true", "HX-Trigger": "case-q"}
    )
    assert response.status_code == 200
    assert references_in(response.content.decode()) == [case.reference]


def test_api_data_in_the_list_is_escaped(agent_client):
    make_cases(1, debtor_name="<script>alert(1)</script>")
    html = agent_client.get(LIST).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("size", [25, 100])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tab": "new"},
        {"q": "r", "currency": "EUR", "amount_min": "1", "sort": "-amount"},
        {"tab": "mine", "sort": "due", "test": "on"},
    ],
)
def test_the_list_page_stays_within_ten_queries_whatever_the_page_size(
    client, supervisor, django_assert_max_num_queries, size, params
):
    make_cases(150)
    client.force_login(supervisor)
    with django_assert_max_num_queries(11):  # the whole page: one more for the "My work" count
        response = client.get(LIST, {**params, "size": size})
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        client.get(LIST, {**params, "size": size}, headers={"HX-Request": "true"})
    if not params:
        assert len(references_in(response.content.decode())) == size
