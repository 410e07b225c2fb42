"""The dashboard's figures against the same figures computed from the ledger and the case list."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import ChatMessage, LifecycleChoices
from dashboard.models import RecoveredMonth, SlaMonth
from dashboard.periods import month_start
from dashboard.summaries import dashboard_summaries_refresh
from payments.models import Payment
from tests.fixtures.factories import (
    CaseFactory,
    ChatMessageFactory,
    OutboxActionFactory,
    PaymentFactory,
    TimelineItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
L = LifecycleChoices


def months_back(n: int) -> date:
    return month_start(timezone.localdate(), n) + timedelta(days=9)  # the 10th: inside the month


@pytest.fixture
def other_agent():
    return UserFactory(username="other", first_name="Olga", last_name="Other", role="Agent")


@pytest.fixture
def ledger_data(agent, other_agent):
    """Payments in three currencies, on the agent's, another agent's and nobody's cases, over
    fourteen months; one failed, one on its way, one on a closed case."""
    mine_eur = CaseFactory(currency="EUR", assigned_to=agent)
    mine_dkk = CaseFactory(currency="DKK", assigned_to=agent, lifecycle=L.PAUSED)
    theirs = CaseFactory(currency="EUR", assigned_to=other_agent)
    nobody_jpy = CaseFactory(currency="JPY", lifecycle=L.CLOSED)
    rows = [
        (mine_eur, 0, "120.50", Payment.State.CONFIRMED),
        (mine_eur, 0, "0.25", Payment.State.PENDING),  # on its way to Debitura: counted
        (mine_eur, 0, "999.00", Payment.State.FAILED),  # never reached Debitura: not counted
        (mine_eur, 2, "80.00", Payment.State.CONFIRMED),
        (mine_dkk, 0, "1500.00", Payment.State.CONFIRMED),
        (mine_dkk, 5, "700.00", Payment.State.DELETING),
        (theirs, 0, "300.00", Payment.State.CONFIRMED),
        (theirs, 11, "45.10", Payment.State.CONFIRMED),
        (nobody_jpy, 1, "15000", Payment.State.CONFIRMED),
        (theirs, 13, "5000.00", Payment.State.CONFIRMED),  # before the longest period
    ]
    for case, back, amount, state in rows:
        PaymentFactory(case=case, date=months_back(back), amount=Decimal(amount), state=state)
    dashboard_summaries_refresh()


def expected_recovered(*, since: date, agent_id: int | None = None) -> dict[tuple[str, date], Decimal]:
    """Recovered per currency and month, summed here from the payment rows themselves."""
    sums: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for p in Payment.objects.select_related("case"):
        if p.state == Payment.State.FAILED or p.date < since:
            continue
        if agent_id is not None and p.case.assigned_to_id != agent_id:
            continue
        sums[(p.currency, month_start(p.date))] += p.amount
    return dict(sums)


def shown_recovered(response) -> dict[tuple[str, date], Decimal]:
    return {
        (item.currency, month): amount
        for item in response.context["recovered"]
        for month, amount, n in item.months
        if n
    }


def test_recovered_per_currency_and_month_equals_the_ledger(client, supervisor, ledger_data):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard"), {"period": "12m"})
    since = month_start(timezone.localdate(), 11)
    shown = shown_recovered(response)
    assert shown == expected_recovered(since=since)
    for (currency, month), amount in shown.items():
        # The ledger's totals for the same month and currency say the same.
        last = month_start(month, -1) - timedelta(days=1)
        ledger = client.get(
            reverse("payments:ledger"), {"date_from": month, "date_to": last, "currency": currency}
        )
        [total] = ledger.context["totals"]
        assert total["total"] == amount, (currency, month)


def test_currencies_are_never_added_together(client, supervisor, ledger_data):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard"), {"period": "12m"})
    totals = {item.currency: item.total for item in response.context["recovered"]}
    assert totals == {"EUR": Decimal("545.85"), "DKK": Decimal("2200.00"), "JPY": Decimal("15000")}
    html = response.content.decode()
    assert "545.85 EUR" in html
    assert "2,200.00 DKK" in html
    assert "15,000 JPY" in html  # JPY has no minor unit
    assert "17,745" not in html  # no cross-currency sum anywhere
    assert "2,745" not in html


def test_an_agent_sees_only_the_recoveries_of_their_own_cases(agent_client, agent, ledger_data):
    response = agent_client.get(reverse("dashboard"), {"period": "12m"})
    since = month_start(timezone.localdate(), 11)
    assert shown_recovered(response) == expected_recovered(since=since, agent_id=agent.pk)
    this_month = agent_client.get(reverse("dashboard"))
    assert {i.currency: i.total for i in this_month.context["recovered"]} == {
        "EUR": Decimal("120.75"),
        "DKK": Decimal("1500.00"),
    }
    html = this_month.content.decode()
    assert "My recoveries" in html
    for supervisor_only in ("Timeliness by agent", "New assignments per week", "Exclusivity ending"):
        assert supervisor_only not in html
    assert "sla" not in this_month.context


def test_the_period_chooser_bounds_every_figure_and_ignores_unknown_values(client, supervisor, ledger_data):
    client.force_login(supervisor)
    three = client.get(reverse("dashboard"), {"period": "3m"})
    assert three.context["period"].months == [month_start(timezone.localdate(), n) for n in (2, 1, 0)]
    assert shown_recovered(three) == expected_recovered(since=month_start(timezone.localdate(), 2))
    assert '<option value="3m" selected>Last 3 months</option>' in three.content.decode()
    unknown = client.get(reverse("dashboard"), {"period": "forever"})
    assert unknown.context["period"].key == "month"


def test_with_htmx_the_chooser_gets_only_the_figures(client, supervisor, ledger_data):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard"), {"period": "3m"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<header" not in html
    assert "<h1>" not in html
    assert "Recovered per month" in html
    page = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'hx-get="/"\s+hx-target="#dashboard-figures" hx-push-url="true"', page)
    assert '<form method="get" action="/"' in page  # and without JavaScript, a plain GET form


def test_lifecycle_counts_are_the_case_lists_counts(agent_client, agent):
    CaseFactory.create_batch(3, lifecycle=L.PENDING_VERIFICATION)
    CaseFactory.create_batch(2, lifecycle=L.ACTIVE, assigned_to=agent)
    CaseFactory(lifecycle=L.ACTIVE)
    CaseFactory(lifecycle=L.ACTIVE, is_test_case=True)
    response = agent_client.get(reverse("dashboard"))
    rows = {row.lifecycle: row for row in response.context["lifecycles"].rows}
    listed = agent_client.get(reverse("cases:list")).content.decode()
    tabs = {k: int(v) for k, v in re.findall(r'>([A-Za-z ]+) <span class="tab-count">(\d+)</span>', listed)}
    assert rows[L.PENDING_VERIFICATION].all == tabs["New assignments"] == 3
    assert rows[L.ACTIVE].all == tabs["Active"] == 3
    assert response.context["lifecycles"].total.mine == tabs["My cases"] == 2
    assert rows[L.ACTIVE].unassigned == 1
    html = response.content.decode()
    assert f'href="/cases/?lifecycle=Active&amp;assigned={agent.pk}">2</a>' in html


def test_sla_timeliness_is_counted_per_agent_on_its_boundaries(client, supervisor, agent, other_agent):
    friday = timezone.make_aware(datetime(2026, 3, 6, 10, 0))
    now = friday + timedelta(days=20)
    # Verified exactly one business day later (Monday, same hour): on time; a second later: late.
    CaseFactory(assigned_to=agent, date_created=friday, date_collection_started=friday + timedelta(days=3))
    CaseFactory(
        assigned_to=agent, date_created=friday, date_collection_started=friday + timedelta(days=3, seconds=1)
    )
    # Declined here and still on its way to Debitura: counts from the click, for whoever clicked.
    waiting = CaseFactory(lifecycle=L.PENDING_VERIFICATION, date_created=friday)
    OutboxActionFactory(
        case=waiting, kind="decline", actor=other_agent, created_at=friday + timedelta(hours=2)
    )
    # Never answered, long past the day: late for nobody.
    CaseFactory(lifecycle=L.PENDING_VERIFICATION, date_created=friday)
    # A creditor message on Friday answered on Wednesday: late, on the agent's case.
    chatty = CaseFactory(assigned_to=agent, date_created=friday - timedelta(days=60))
    ChatMessageFactory(case=chatty, role=ChatMessage.Role.CREDITOR, date_created=friday)
    ChatMessageFactory(case=chatty, role=ChatMessage.Role.PARTNER, date_created=friday + timedelta(days=5))
    # Accepted 40 days ago with one note on day 30: on time, and the next deadline still ahead.
    active = CaseFactory(assigned_to=other_agent, date_created=now - timedelta(days=41),
                         date_collection_started=now - timedelta(days=40))  # fmt: skip
    TimelineItemFactory(case=active, type="Note", date=now - timedelta(days=10))
    dashboard_summaries_refresh(now=now)

    def counted(kind: str) -> dict[int, tuple[int, int]]:
        return {row.agent: (row.on_time, row.late) for row in SlaMonth.objects.filter(kind=kind)}

    assert counted("verify") == {agent.pk: (1, 1), other_agent.pk: (1, 0), 0: (0, 1)}
    assert counted("reply") == {agent.pk: (0, 1)}
    assert counted("update") == {other_agent.pk: (1, 0)}


def query_count(client, period: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("dashboard"), {"period": period}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("period", ["month", "12m"])
def test_the_dashboard_reads_a_fixed_number_of_queries_whatever_the_number_of_cases(
    client, agent, supervisor, period, django_assert_max_num_queries
):
    def grow(n: int) -> None:
        for i in range(n):
            case = CaseFactory(assigned_to=agent if i % 2 else None, currency=("EUR", "DKK")[i % 2],
                               exclusive_period_end=timezone.now() + timedelta(days=5 + i % 20))  # fmt: skip
            PaymentFactory(case=case, date=months_back(i % 12))
            # Unanswered for ten days: late, so the timeliness rows name their agents.
            ChatMessageFactory(
                case=case, role=ChatMessage.Role.CREDITOR, date_created=timezone.now() - timedelta(days=10)
            )
        dashboard_summaries_refresh()

    grow(3)
    counts = {}
    for user in (agent, supervisor):
        client.force_login(user)
        counts[user.username] = query_count(client, period)
    grow(40)
    for user in (agent, supervisor):
        client.force_login(user)
        with django_assert_max_num_queries(counts[user.username]):
            client.get(reverse("dashboard"), {"period": period})
    # Session, user, permissions (2), the counts, the refresh stamp, recovered, the navigation's
    # unread and "My work" counts, the import's progress, my due tasks by kind; the supervisor's
    # weeks, timeliness, agents' names, exclusivity (2) and promises per agent on top.
    assert counts["agent"] <= 11, counts
    assert counts["supervisor"] <= 17, counts


def test_the_page_has_no_inline_style_or_script_and_every_chart_is_an_image_with_a_name(
    client, supervisor, ledger_data
):
    client.force_login(supervisor)
    html = client.get(reverse("dashboard"), {"period": "12m"}).content.decode()
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    charts = re.findall(r'<svg viewBox[^>]*role="img" aria-labelledby="([^"]+)"', html)
    assert charts, "no chart drawn"
    for label in charts:
        assert f'<title id="{label}">' in html
    assert html.count('class="chart-numbers"') >= len(charts) - 0  # each chart has its table
    # The panels that read the work list and the promises, each with its words when empty.
    assert "My due and overdue tasks" in html
    assert "Promises to pay" in html


# Committed for real: on PostgreSQL the lock belongs to a transaction, and a test's own outer
# transaction would hold the fixture's rebuild lock to the end.
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_while_another_runs_leaves_the_rows_to_it(settings, tmp_path, ledger_data):
    import threading

    from partnerportal.locks import named_lock

    settings.VAR_DIR = tmp_path
    before = list(RecoveredMonth.objects.values_list("month", "currency", "agent", "amount"))
    PaymentFactory(case=CaseFactory(currency="SEK"), date=timezone.localdate())
    held, done = threading.Event(), threading.Event()

    def other_worker() -> None:  # another process's rebuild, on its own connection
        try:
            with named_lock("dashboard:summaries", wait=False):
                held.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        assert dashboard_summaries_refresh() is None
    finally:
        done.set()
        thread.join()
    assert list(RecoveredMonth.objects.values_list("month", "currency", "agent", "amount")) == before
    assert dashboard_summaries_refresh() is not None
    assert RecoveredMonth.objects.filter(currency="SEK").exists()
