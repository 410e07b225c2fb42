"""The list's tab counts, kept by triggers on the case table, and the indexes its sorts read."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import counts as case_counts_module
from cases.counts import case_counts, case_counts_fold
from cases.filters import SORTS
from cases.models import Case, CaseCount, LifecycleChoices
from tests.fixtures.case_list import LIST, make_cases, references_in

pytestmark = pytest.mark.django_db
L = LifecycleChoices


def tabs(client) -> dict[str, int]:
    html = client.get(LIST).content.decode()
    return {k: int(v) for k, v in re.findall(r'>([A-Za-z ]+) <span class="tab-count">(\d+)</span>', html)}


def counted_from_the_case_table() -> dict[tuple[str, int], int]:
    counts: dict[tuple[str, int], int] = {}
    for lifecycle, assignee in Case.objects.filter(gone_at__isnull=True, is_test_case=False).values_list(
        "lifecycle", "assigned_to_id"
    ):
        counts[(lifecycle, assignee or 0)] = counts.get((lifecycle, assignee or 0), 0) + 1
    return counts


def test_tab_counts_follow_every_write_at_once(agent_client, agent):
    active = make_cases(3, lifecycle=L.ACTIVE)
    make_cases(1, lifecycle=L.ACTIVE, is_test_case=True)
    assert tabs(agent_client)["Active"] == 3
    # No cache in between: the next request sees each change (a cached count would lag).
    Case.objects.filter(id=active[0].id).update(lifecycle=L.CLOSED, close_code="Paid")
    assert (tabs(agent_client)["Active"], tabs(agent_client)["Closed"]) == (2, 1)
    Case.objects.filter(id=active[1].id).update(assigned_to=agent)
    assert tabs(agent_client)["My cases"] == 1
    Case.objects.filter(id=active[1].id).update(gone_at=timezone.now())
    assert tabs(agent_client)["My cases"] == 0
    Case.objects.filter(id=active[2].id).delete()
    assert tabs(agent_client) == {
        "New assignments": 0, "Active": 0, "Paused": 0, "Needs details": 0, "Closed": 1, "All": 1,
        "My cases": 0,
    }  # fmt: skip
    assert case_counts(include_test=True)[(L.ACTIVE, 0)] == 1


def test_counts_match_the_case_table_after_upserts_reassignments_and_deletes(agent, supervisor):
    cases = make_cases(20, lifecycle=L.ACTIVE)
    for index, case in enumerate(cases):
        case.lifecycle = [L.ACTIVE, L.PAUSED, L.CLOSED, L.PENDING_VERIFICATION][index % 4]
        case.assigned_to = [None, agent, supervisor][index % 3]
        case.is_test_case = index % 7 == 0
    Case.objects.bulk_update(cases, ["lifecycle", "assigned_to", "is_test_case"])
    # The sync writes with INSERT ... ON CONFLICT DO UPDATE: an upsert that changes the lifecycle.
    Case.objects.bulk_create(
        [
            Case(
                **{
                    **{f.attname: getattr(cases[0], f.attname) for f in Case._meta.concrete_fields},
                    "lifecycle": L.PAUSED,
                }
            )
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["lifecycle"],
    )
    Case.objects.filter(id__in=[c.id for c in cases[:3]]).delete()
    agent.delete()  # SET NULL on the assignee: an update Django makes for us
    assert case_counts(include_test=False) == counted_from_the_case_table()


def test_postgresql_change_rows_are_folded_without_changing_the_counts(monkeypatch):
    cases = make_cases(5, lifecycle=L.ACTIVE)
    for _ in range(3):
        for case in cases:
            Case.objects.filter(id=case.id).update(lifecycle=L.PAUSED)
            Case.objects.filter(id=case.id).update(lifecycle=L.ACTIVE)
    expected = counted_from_the_case_table()
    if connection.vendor == "postgresql":
        assert CaseCount.objects.count() > 30  # one change row per change
    monkeypatch.setattr(case_counts_module, "FOLD_AT", 10)
    assert case_counts(include_test=False) == expected  # and folds, as there are over 10 rows
    # SQLite keeps one row per group (Paused's is at 0 now); PostgreSQL's fold drops zero sums.
    assert CaseCount.objects.count() == (1 if connection.vendor == "postgresql" else 2)
    case_counts_fold()
    assert case_counts(include_test=False) == expected == {(L.ACTIVE, 0): 5}


def test_the_tab_counts_do_not_read_the_case_table(client, supervisor):
    make_cases(30)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST)
    # The navigation's unread count reads only the partial index of cases with unread messages.
    nav = [q["sql"] for q in queries if '"unread_messages" > 0' in q["sql"]]
    assert len(nav) == 1, nav
    reads = [
        q["sql"]
        for q in queries
        if "cases_case" in q["sql"] and "cases_casecount" not in q["sql"] and q["sql"] not in nav
    ]
    assert len(reads) == 1, reads  # the page itself; no COUNT over the cases
    assert "COUNT" not in reads[0]


def _cases_for_density() -> None:
    make_cases(6, lifecycle=L.ACTIVE, currency="EUR", gross_amount=Decimal("1500.50"))
    make_cases(
        4, lifecycle=L.ACTIVE, currency="EUR", gross_amount=Decimal("999.99"), debtor_country_code="DK"
    )
    make_cases(5, lifecycle=L.PAUSED, currency="DKK", gross_amount=Decimal("20000"), due_date=timezone.now())
    make_cases(3, lifecycle=L.ACTIVE, currency="USD", gross_amount=Decimal("1000"), needs_info=True)
    for index, case in enumerate(Case.objects.all()):
        Case.objects.filter(id=case.id).update(remainder=Decimal(index * 37 % 11) + Decimal("0.25"))


@pytest.mark.parametrize(
    "params",
    [
        {"tab": "active", "currency": "EUR", "amount_min": "1000", "sort": "-remainder"},
        {"tab": "active", "amount_min": "1000", "amount_max": "1000.00", "sort": "debtor"},
        {"tab": "active", "remainder_max": "5.25", "sort": "-amount"},
        {"country": "dk", "sort": "remainder"},
        {"tab": "paused", "due_from": "2000-01-01", "sort": "-created"},
        {"needs_info": "yes", "sort": "due"},
        {"tab": "active", "sort": "phase", "size": "25"},
    ],
)
def test_lists_read_along_the_sort_index_show_the_same_cases(agent_client, monkeypatch, params):
    # With a count cap of 0 every list counts as dense, and SQLite gets conditions no index
    # answers (+column, CAST(... AS NUMERIC) for amounts): the rows and their order must not change.
    _cases_for_density()
    expected = references_in(agent_client.get(LIST, params).content.decode())
    monkeypatch.setattr("cases.filters.COUNT_CAP", 0)
    assert references_in(agent_client.get(LIST, params).content.decode()) == expected
    assert expected


def test_a_dense_filter_reads_the_sort_index_on_sqlite(client, supervisor, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner has statistics; the conditions are written plainly there")
    _cases_for_density()
    monkeypatch.setattr("cases.filters.COUNT_CAP", 0)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"tab": "active", "currency": "EUR", "amount_min": "1000", "sort": "-remainder"})
    page = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "cases_case" in q["sql"])
    assert '+"cases_case"."lifecycle" = ' in page
    assert 'CAST("cases_case"."gross_amount" AS NUMERIC) >= ' in page
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + page.replace("%", "%%"))
        plan = " / ".join(row[3] for row in cursor.fetchall())
    assert "case_remainder_id" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


SORTED_BY_AN_INDEX = [key for key in SORTS if key != "assigned"]  # the assignee's name is in auth_user


@pytest.mark.parametrize("key", SORTED_BY_AN_INDEX)
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_reads_an_index_in_the_list_order(client, supervisor, key, descending):
    make_cases(3)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"sort": f"-{key}" if descending else key})
    page = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and '"cases_case"."id" ' in q["sql"])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + page.replace("%", "%%"))
            plan = " / ".join(row[3] for row in cursor.fetchall())
            assert "TEMP B-TREE" not in plan, plan
        else:
            # With sorting priced out, the plan sorts only where no index gives the order.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + page.replace("%", "%%"))
            plan = " / ".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan, plan


def test_case_ids_in_cursors_still_page_through_a_tied_column(agent_client):
    # 30 cases in one phase: the id alone orders them, as the (phase, id) index does.
    made = make_cases(30, engagement_phase="Legal")
    first = agent_client.get(LIST, {"sort": "phase"}).content.decode()
    after = re.search(r'href="/cases/\?([^"]*after=[^"]*)"', first)
    assert after
    second = agent_client.get(f"{LIST}?{after.group(1).replace('&amp;', '&')}").content.decode()
    listed = references_in(first) + references_in(second)
    assert listed == [c.reference for c in sorted(made, key=lambda c: str(c.id))]
    assert len({uuid.UUID(str(c.id)) for c in made}) == 30


@pytest.mark.parametrize("sort", ["assigned", "-assigned"])
def test_the_assignee_sort_pages_in_name_order_without_sorting_every_case(
    client, supervisor, make_user, django_assert_max_num_queries, sort
):
    # Users made in reverse name order, so their ids do not follow their names.
    users = [make_user(username=name) for name in ("zoe", "mads", "anna")]
    for index, user in enumerate([*users, None]):
        make_cases(7 + index, assigned_to=user)
    expected_order = Case.objects.order_by(
        F("assigned_to__username").desc() if sort.startswith("-") else F("assigned_to__username").asc(),
        "-id" if sort.startswith("-") else "id",
    )
    expected = [case.reference for case in expected_order]
    client.force_login(supervisor)
    seen: list[str] = []
    pages = ""
    query = f"sort={sort}&size=25"
    while True:
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(10):
            html = client.get(f"{LIST}?{query}").content.decode()
        sorted_cases = [q for q in queries if 'FROM "cases_case"' in q["sql"] and "auth_user" in q["sql"]]
        assert not sorted_cases  # the old plan: join every case to its user and sort them all
        seen += references_in(html)
        pages += html
        found = re.search(r'href="/cases/\?([^"]+)"[^>]*rel="next"', html)
        if not found:
            break
        query = found.group(1).replace("&amp;", "&")
    assert seen == expected
    for user in users:  # the rows carry their assignee without a query each
        name = user.get_full_name() or user.username
        assert f'<td class="col-assigned"><span class="cut" title="{name}">{name}</span></td>' in pages


def test_the_dashboard_and_the_list_count_the_same_cases_and_both_say_test_cases_are_left_out(agent_client):
    make_cases(3, lifecycle=L.PENDING_VERIFICATION)
    make_cases(2, lifecycle=L.ACTIVE)
    make_cases(2, lifecycle=L.PENDING_VERIFICATION, is_test_case=True)
    make_cases(1, lifecycle=L.MERGED, is_test_case=True)
    dashboard = agent_client.get("/")
    by_lifecycle = {row.label: row.all for row in dashboard.context["lifecycles"].rows if row.all}
    shown = tabs(agent_client)
    assert dashboard.context["case_count"] == shown["All"] == 5
    assert by_lifecycle["Pending Verification"] == shown["New assignments"] == 3
    assert "Merged" not in by_lifecycle
    html = dashboard.content.decode()
    assert "3 test cases not counted, as in the case list" in html
    assert 'href="/cases/?test=on"' in html

    listed = agent_client.get(LIST, {"tab": "new"}).content.decode()
    assert "Test cases left out (3 in all):" in listed
    assert 'href="/cases/?tab=new&amp;test=on">include them</a>' in listed
    included = agent_client.get(LIST, {"tab": "new", "test": "on"}).content.decode()
    assert "5 cases;" in included
    assert 'Test cases included (3 in all): <a href="/cases/?tab=new">hide them</a>' in included


def test_without_test_cases_neither_page_mentions_them(agent_client):
    make_cases(2)
    assert "test case" not in agent_client.get("/").content.decode().lower()
    assert "test case" not in agent_client.get(LIST).content.decode().split('class="result-summary"')[1][:300]
