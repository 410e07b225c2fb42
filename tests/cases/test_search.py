"""The case list's search box: substring matches over the haystack, literal input, the index."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.filters import COUNT_CAP
from cases.models import Case, LifecycleChoices
from cases.sync import search_text
from tests.fixtures.factories import CaseFactory

pytestmark = pytest.mark.django_db
LIST = "/cases/"
TYPING = {"HX-Request": "true", "HX-Trigger": "case-q"}  # live typing never jumps to a case


def make_case(index: int = 0, **fields) -> Case:
    return CaseFactory.create(remote_updated_at=timezone.now() - timedelta(minutes=index), **fields)


def found(client, term: str, **params) -> list[str]:
    html = client.get(LIST, {"q": term, "size": 100, **params}, headers=TYPING).content.decode()
    return re.findall(r'<a href="/cases/[0-9a-f-]{36}/">([^<]+)</a>', html)


def test_any_part_of_a_reference_name_email_or_phone_finds_the_case_whatever_the_case(agent_client):
    case = make_case(
        reference="Q8OAXF3W",
        partner_reference="AG-2024-0117",
        creditor_reference="INV/55-81",
        debtor_name="Søren Østergaard ApS",
        debtor_email="Billing@Oestergaard.dk",
        debtor_phone="+45 12 34-56 78",
        creditor_name="Nordic Lighting A/S",
    )
    make_case(1, reference="ZZZZZZZZ", debtor_name="Someone Else")
    for term in (
        "8oaxf", "Q8OAXF3W", "ag-2024", "0117", "inv/55", "SØREN", "østergaard aps", "billing@oest",
        "OESTERGAARD.DK", "12 34-56", "12345678", "+4512", "lighting a/s",
    ):  # fmt: skip
        assert found(agent_client, term) == [case.reference], term


def test_short_terms_match_by_substring_too(agent_client):
    case = make_case(debtor_name="Ib Ax")
    make_case(1, debtor_name="Other")
    assert found(agent_client, "ib") == [case.reference]
    assert found(agent_client, "X") == [case.reference]


@pytest.mark.parametrize(
    "term",
    [
        "50%",
        "a_b",
        "o'brien",
        'say "hi"',
        "x*",
        "NEAR(a b)",
        "col:val",
        "^start",
        "a OR b",
        "-not",
        "'; drop",
    ],
)
def test_wildcards_quotes_and_query_syntax_are_literal_text(agent_client, term):
    wanted = make_case(debtor_name=f"Name {term} end")
    # A row that each character would match if it were a wildcard or operator, not text.
    make_case(1, debtor_name="Name 50 axb ab o brien say hi x near a b col val start a b not drop end")
    assert found(agent_client, term) == [wanted.reference]
    assert Case.objects.count() == 2


def test_search_combines_with_filters_and_sorts(agent_client):
    big = make_case(debtor_name="Hansen Big", gross_amount=Decimal("900"))
    small = make_case(1, debtor_name="Hansen Small", gross_amount=Decimal("10"))
    make_case(2, debtor_name="Hansen Paused", lifecycle=LifecycleChoices.PAUSED)
    make_case(3, debtor_name="Jensen", gross_amount=Decimal("500"))
    assert found(agent_client, "hansen", tab="active", sort="amount") == [small.reference, big.reference]
    assert found(agent_client, "hansen", tab="active", amount_min="100") == [big.reference]


def test_a_changed_or_deleted_case_is_found_by_its_new_text_only(agent_client):
    case = make_case(debtor_name="Before Name")
    Case.objects.filter(id=case.id).update(search_text=search_text({"debtor_name": "After Name"}))
    assert found(agent_client, "before name") == []
    assert found(agent_client, "after name") == [case.reference]
    Case.objects.filter(id=case.id).delete()
    assert found(agent_client, "after name") == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table exists on SQLite only")
def test_the_sqlite_trigram_table_follows_inserts_updates_and_deletes():
    def indexed(term: str) -> int:
        with connection.cursor() as cursor:
            phrase = '"' + term + '"'
            cursor.execute("SELECT count(*) FROM case_search WHERE case_search MATCH %s", [phrase])
            return cursor.fetchone()[0]

    case = make_case(debtor_name="Trigram Person")
    assert indexed("gram pers") == 1
    Case.objects.filter(id=case.id).update(search_text="renamed")
    assert (indexed("gram pers"), indexed("renamed")) == (0, 1)
    Case.objects.filter(id=case.id).delete()
    assert indexed("renamed") == 0


def test_a_term_in_more_cases_than_the_count_cap_lists_the_newest_first(client, supervisor):
    now = timezone.now()
    rows = [
        CaseFactory.build(
            reference=f"H{index:07d}",
            debtor_name=f"Hansen {index}",
            remote_updated_at=now - timedelta(minutes=index),
        )
        for index in range(COUNT_CAP + 50)
    ]
    Case.objects.bulk_create(rows)
    client.force_login(supervisor)
    html = client.get(LIST, {"q": "hansen"}, headers=TYPING).content.decode()
    assert f"More than {COUNT_CAP:,}" in html or f"More than {COUNT_CAP}" in html
    assert re.findall(r'<a href="/cases/[0-9a-f-]{36}/">([^<]+)</a>', html)[:3] == [
        "H0000000", "H0000001", "H0000002",
    ]  # fmt: skip
    assert found(client, "hansen 1049") == ["H0001049"]


@pytest.mark.parametrize("term", ["hansen", "hansen 7", "nobody-matches"])
def test_a_search_stays_within_ten_queries(client, supervisor, django_assert_max_num_queries, term):
    for index in range(30):
        make_case(index, debtor_name=f"Hansen {index}")
    client.force_login(supervisor)
    with django_assert_max_num_queries(11):  # the whole page: one more for the "My work" count
        assert client.get(LIST, {"q": term}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(LIST, {"q": term, "size": 100}, headers=TYPING).status_code == 200


def test_the_jump_check_reads_the_reference_indexes_not_the_visible_cases(agent_client):
    # Without planner statistics SQLite took "gone_at IS NULL" for selective and read every
    # visible case through case_gone: 39 ms at 100,000 cases for each search typed with Enter.
    make_case(reference="Q8OAXF3W")
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(LIST, {"q": "hansen"})
    jump = next(q["sql"] for q in queries if '"cases_case"."reference" IN' in q["sql"])
    with connection.cursor() as cursor:
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(explain + jump.replace("%", "%%"))
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "case_gone" not in plan, plan
        assert "case_reference_id" in plan, plan
        assert "case_partner_reference_id" in plan, plan
    assert "ORDER BY" not in jump  # any ten candidates do; sorting them is wasted
