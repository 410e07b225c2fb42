"""The ledger at /payments/: filters, totals per currency, earnings per month, the streaming CSV export."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date
from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from payments.models import Payment
from payments.services import RevenueShares, payments_earnings_by_month, payments_ledger

pytestmark = pytest.mark.django_db


class PaymentFactory(factory.django.DjangoModelFactory):
    """A confirmed payment on a given case, in the case's currency."""

    class Meta:
        model = Payment

    date = date(2026, 3, 15)
    amount = Decimal("100.00")
    currency = factory.LazyAttribute(lambda p: p.case.currency)
    recipient = Payment.Recipient.COLLECTION_PARTNER
    commission_status = Payment.CommissionStatus.PAID
    state = Payment.State.CONFIRMED


@pytest.fixture
def two_cases(cases_by_lifecycle, agent, supervisor):
    """An Active EUR case assigned to the agent and a Closed DKK case assigned to the supervisor."""
    active, closed = cases_by_lifecycle("Active")[0], cases_by_lifecycle("Closed")[0]
    Case.objects.filter(pk=active.pk).update(
        currency="EUR", assigned_to=agent, success_fee=Decimal("20"), engagement_phase="Pre-legal"
    )
    Case.objects.filter(pk=closed.pk).update(
        currency="DKK", assigned_to=supervisor, success_fee=Decimal("10"), engagement_phase="Legal"
    )
    active.refresh_from_db()
    closed.refresh_from_db()
    return active, closed


@pytest.fixture
def ledger_payments(two_cases):
    active, closed = two_cases
    return [
        PaymentFactory(case=active, date=date(2026, 3, 1), amount=Decimal("100")),
        PaymentFactory(
            case=active,
            date=date(2026, 3, 20),
            amount=Decimal("50"),
            recipient=Payment.Recipient.CREDITOR,
            commission_status=Payment.CommissionStatus.UNPAID,
        ),
        PaymentFactory(case=active, date=date(2026, 4, 2), amount=Decimal("30"), payout_partner=Decimal("9")),
        PaymentFactory(case=closed, date=date(2026, 4, 5), amount=Decimal("1000")),
        PaymentFactory(case=closed, date=date(2026, 4, 6), amount=Decimal("999"), state=Payment.State.FAILED),
    ]


def ledger(client, **params):
    response = client.get(reverse("payments:ledger"), params)
    assert response.status_code == 200
    return response


def test_the_nav_links_to_the_ledger(agent_client):
    html = agent_client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("payments:ledger")}"' in html
    assert 'aria-disabled="true" title="Arrives with payments"' not in html


def test_every_role_with_view_cases_sees_every_payment(client, viewer, ledger_payments):
    client.force_login(viewer)
    response = ledger(client)
    assert len(response.context["payments"]) == len(ledger_payments)
    assert "Export these rows as CSV" not in response.content.decode()  # no export_data


def test_a_user_without_a_role_is_refused(client, make_user):
    client.force_login(make_user(username="norole"))
    assert client.get(reverse("payments:ledger")).status_code == 403


@pytest.mark.parametrize(
    ("params", "amounts"),
    [
        ({"date_from": "2026-03-10", "date_to": "2026-04-02"}, {"50", "30"}),
        ({"currency": "DKK"}, {"1000", "999"}),
        ({"recipient": "Creditor"}, {"50"}),
        ({"commission_status": "Unpaid"}, {"50"}),
        ({"lifecycle": "Closed"}, {"1000", "999"}),
        ({"state": "failed"}, {"999"}),
    ],
)
def test_filters_narrow_the_rows(agent_client, ledger_payments, params, amounts):
    rows = ledger(agent_client, **params).context["payments"]
    assert {p.amount for p in rows} == {Decimal(a) for a in amounts}


def test_the_agent_filter_is_the_cases_assignee(agent_client, agent, ledger_payments):
    rows = ledger(agent_client, agent=str(agent.pk)).context["payments"]
    assert {p.case.assigned_to_id for p in rows} == {agent.pk}
    assert len(rows) == 3


def test_an_invalid_filter_is_reported_and_ignored(agent_client, ledger_payments):
    response = ledger(agent_client, date_from="not-a-date", currency="XYZ")
    assert len(response.context["payments"]) == len(ledger_payments)
    assert "Enter a valid date." in response.content.decode()


def test_only_failed_payments_say_so_instead_of_no_payments_match(agent_client, ledger_payments):
    html = ledger(agent_client, state="failed").content.decode()
    assert "Only failed payments match" in html
    assert "No payments match" not in html


def test_totals_are_per_currency_and_never_added_across_currencies(agent_client, ledger_payments):
    totals = {row["currency"]: (row["count"], row["total"]) for row in ledger(agent_client).context["totals"]}
    # Failed payments are listed, not counted.
    assert totals == {"EUR": (3, Decimal("180")), "DKK": (1, Decimal("1000"))}
    html = ledger(agent_client).content.decode()
    assert "180.00 EUR" in html
    assert "1,000.00 DKK" in html
    assert "1,180" not in html


def test_earnings_per_month_use_debituras_payout_else_the_success_fee(two_cases, ledger_payments):
    shares = RevenueShares(pre_legal=Decimal("0.40"), legal=Decimal("0.20"))
    rows = payments_earnings_by_month(payments=payments_ledger(), shares=shares)
    by_key = {(row["month"].strftime("%Y-%m"), row["currency"]): row for row in rows}

    march = by_key[("2026-03", "EUR")]  # 20 % of 150, Debitura keeps 40 % of it
    assert (march["agency_fee"], march["debitura_share"], march["keeps"]) == (
        Decimal("30.00"),
        Decimal("12.00"),
        Decimal("18.00"),
    )
    april_eur = by_key[("2026-04", "EUR")]  # Debitura's payout to the agency: 9
    assert april_eur["agency_fee"] == Decimal("9.00")
    april_dkk = by_key[("2026-04", "DKK")]  # 10 % of 1000 on a legal case: Debitura keeps 20 %
    assert (april_dkk["agency_fee"], april_dkk["debitura_share"]) == (Decimal("100.00"), Decimal("20.00"))
    assert len(rows) == 3  # the failed DKK payment counts nowhere


def test_the_ledger_pages_by_100(agent_client, two_cases):
    active, _ = two_cases
    Payment.objects.bulk_create(
        [
            Payment(case=active, date=date(2026, 1, 1), amount=Decimal(i + 1), currency="EUR")
            for i in range(150)
        ]
    )
    first = ledger(agent_client)
    assert len(first.context["payments"]) == 100
    assert first.context["next_offset"] == 100
    second = ledger(agent_client, offset="100")
    assert len(second.context["payments"]) == 50
    assert second.context["next_offset"] is None


def test_the_ledger_with_htmx_renders_only_the_results(agent_client, ledger_payments):
    response = agent_client.get(
        reverse("payments:ledger"), {"currency": "EUR"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ledger-results">')
    assert "<html" not in html


def test_back_to_a_filtered_ledger_after_a_history_cache_miss_gets_the_whole_page(
    agent_client, ledger_payments
):
    # htmx asks for a pushed URL again with HX-Request set and swaps the answer into the body.
    response = agent_client.get(
        reverse("payments:ledger"),
        {"currency": "EUR"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" in html
    assert 'id="ledger-filters"' in html
    assert 'id="ledger-results"' in html


def test_the_ledger_stays_within_a_few_queries(agent_client, ledger_payments, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        ledger(agent_client)


# --- CSV export ----------------------------------------------------------------------------------


def export(client, **params):
    return client.get(reverse("payments:export"), params)


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_only_users_who_may_export_get_the_csv(client, agent, supervisor, ledger_payments):
    client.force_login(agent)
    assert export(client).status_code == 403
    client.force_login(supervisor)
    assert export(client).status_code == 200


def test_the_export_has_the_filtered_rows_with_exact_amounts(client, supervisor, ledger_payments):
    client.force_login(supervisor)
    response = export(client, currency="EUR")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:7] == [
        "Date",
        "Debitura reference",
        "Agency reference",
        "Debtor",
        "Creditor",
        "Amount",
        "Currency",
    ]
    assert sorted(row[5] for row in body) == ["100.00", "30.00", "50.00"]
    assert {row[6] for row in body} == {"EUR"}


def test_the_export_keeps_spreadsheet_formulas_inert(client, supervisor, two_cases):
    active, _ = two_cases
    Case.objects.filter(pk=active.pk).update(debtor_name='=HYPERLINK("http://evil")')
    PaymentFactory(case=active)
    client.force_login(supervisor)
    rows = read_csv(export(client))
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    "name",
    [
        ' =HYPERLINK("http://evil")',
        "\n=1+1",
        "\r\n@SUM(A1)",
        "  \t-2+3",
        "\u00a0+cmd|' /C calc'!A0",  # a no-break space
        "\u200b=1+1",  # a zero-width space
        "\uff1d1+1",  # a full-width equals sign
    ],
)
def test_a_formula_behind_white_space_or_invisible_characters_stays_inert(
    client, supervisor, two_cases, name
):
    active, _ = two_cases
    Case.objects.filter(pk=active.pk).update(debtor_name=name, creditor_name="Jens = Hansen - ApS")
    PaymentFactory(case=active)
    client.force_login(supervisor)
    rows = read_csv(export(client))
    assert rows[1][3] == f"'{name}"
    assert rows[1][4] == "Jens = Hansen - ApS"  # a sign inside the text is no formula


def test_the_export_streams_100000_rows_in_bounded_memory_and_few_queries(client, supervisor, two_cases):
    active, _ = two_cases
    total = 100_000
    Payment.objects.bulk_create(
        (
            Payment(case=active, date=date(2026, 1, 1), amount=Decimal(i % 997 + 1), currency="EUR")
            for i in range(total)
        ),
        batch_size=5000,
    )
    client.force_login(supervisor)
    response = export(client)
    assert isinstance(response, StreamingHttpResponse)

    lines = 0
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert lines == total + 1
    # One streamed SELECT, read a chunk at a time (PostgreSQL: a server-side cursor).
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]
    # The rows alone are over 10 MB of CSV; the stream never holds more than a chunk of them.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"
