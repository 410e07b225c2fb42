"""Writing pages of cases: one upsert that creates and overwrites, and leaves the portal's columns alone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.bulk import upsert_plan
from cases.models import Case
from cases.sync import WRITTEN_COLUMNS, case_row, cases_upsert_page
from debitura import types
from debitura.emulator import Emulator
from debitura.types import CaseFilters
from tests.fixtures.gateway import make_client

pytestmark = pytest.mark.django_db

ALL = CaseFilters(sort="DateCreated:asc", include_test_cases=True)
LOCAL = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _page(client, size: int = 50) -> list[types.Case]:
    return list(client.list_cases(ALL, page=1, page_size=size).cases)


def _changed(remote: types.Case, **changes) -> types.Case:
    """The same case as Debitura would send it after a change: new values, new JSON."""
    return msgspec.structs.replace(remote, raw_json=json.dumps({**remote.raw, "changed": True}), **changes)


def _debtor_named(remote: types.Case, name: str) -> types.Debtor:
    return msgspec.structs.replace(remote.debtor or types.Debtor(), name=name)


def _new(remote: types.Case) -> types.Case:
    """A case Debitura has just assigned, shaped like `remote`."""
    case_id = str(uuid.uuid4())
    raw_json = json.dumps({**remote.raw, "id": case_id})
    return msgspec.structs.replace(remote, id=case_id, reference="NEW00001", raw_json=raw_json)


def _statements(queries, words: str) -> int:
    return sum(1 for query in queries if words in query["sql"].upper())


def test_one_upsert_creates_the_new_cases_and_overwrites_the_changed_ones(synced):
    first, second, *rest = _page(synced)
    page = [_changed(first, debtor=_debtor_named(first, "Changed Debtor")), _new(second), *rest]

    with CaptureQueriesContext(connection) as queries:
        result = cases_upsert_page(remotes=page)

    assert result.updated == [first.id]
    assert result.created == [page[1].id]
    assert sorted(result.unchanged) == sorted(case.id for case in rest)
    assert _statements(queries, "INSERT INTO") == 1
    assert Case.objects.get(id=first.id).debtor_name == "Changed Debtor"
    assert Case.objects.get(id=page[1].id).reference == "NEW00001"
    assert Case.objects.count() == 51


def test_an_overwrite_keeps_the_portals_own_columns(synced, make_user):
    remote = _page(synced, 1)[0]
    agent = make_user(username="local-pick", email="local-pick@agency.example")
    Case.objects.filter(id=remote.id).update(
        partner_reference="AGENCY-7",
        first_opened_at=LOCAL,
        children_synced_at=LOCAL,
        children_stale=False,
        exclusivity_start=LOCAL,
        exclusivity_status="Extended",
        creditor_responded_at=LOCAL,
        assigned_to=agent,
    )

    result = cases_upsert_page(remotes=[_changed(remote, debtor=_debtor_named(remote, "New Name ApS"))])

    assert result.updated == [remote.id]
    case = Case.objects.get(id=remote.id)
    assert case.debtor_name == "New Name ApS"
    assert (case.partner_reference, case.exclusivity_status) == ("AGENCY-7", "Extended")
    assert case.first_opened_at == case.children_synced_at == case.exclusivity_start == LOCAL
    assert case.creditor_responded_at == LOCAL
    # Debitura's assignee did not change, so the local reassignment stands.
    assert case.assigned_to == agent
    assert case.children_stale
    assert "agency-7" in case.search_text
    assert "new name aps" in case.search_text


def test_a_new_assignee_at_debitura_replaces_a_local_reassignment(synced, make_user):
    remote = _page(synced, 1)[0]
    local = make_user(username="local-pick", email="local-pick@agency.example")
    theirs = make_user(username="their-pick", email="their-pick@agency.example")
    Case.objects.filter(id=remote.id).update(assigned_to=local)
    assignee = types.AssignedUser(email="Their-Pick@Agency.example", name="Their Pick")

    cases_upsert_page(remotes=[_changed(remote, assigned_user=assignee)])

    assert Case.objects.get(id=remote.id).assigned_to == theirs


def test_unchanged_cases_are_only_stamped(synced):
    page = _page(synced)
    later = datetime.now(UTC) + timedelta(hours=1)
    before = {case.id: (case.raw, case.children_stale) for case in Case.objects.all()}

    with CaptureQueriesContext(connection) as queries:
        result = cases_upsert_page(remotes=page, now=later)

    assert sorted(result.unchanged) == sorted(case.id for case in page)
    assert (result.created, result.updated) == ([], [])
    assert _statements(queries, "INSERT INTO") == _statements(queries, "COPY ") == 0
    assert set(Case.objects.values_list("synced_at", flat=True)) == {later}
    assert {case.id: (case.raw, case.children_stale) for case in Case.objects.all()} == before


def test_the_queries_a_page_costs_do_not_grow_with_the_page(db, django_assert_max_num_queries):
    emulator = Emulator(cases=250, seed=3, api_key="test-api-key")
    with make_client(emulator.transport(), event_hooks={}) as client:
        small = _page(client, 5)
        large = list(client.list_cases(ALL, page=2, page_size=100).cases)
    with CaptureQueriesContext(connection) as for_small:
        cases_upsert_page(remotes=small)
    updated = [_changed(case) for case in small]

    # The rows already held, the portal's users, the upsert (on PostgreSQL: stage, COPY,
    # INSERT) and the savepoint around them, whatever the size of the page.
    assert len(for_small) <= 7
    with django_assert_max_num_queries(len(for_small)):
        result = cases_upsert_page(remotes=large + updated)

    assert (len(result.created), len(result.updated)) == (100, 5)


def test_pages_written_in_one_outer_transaction_each_write_only_their_own_rows(sync_client):
    first = _page(sync_client, 20)
    second = list(sync_client.list_cases(ALL, page=2, page_size=20).cases)

    with transaction.atomic():
        cases_upsert_page(remotes=first)
        result = cases_upsert_page(remotes=second)

    assert sorted(result.created) == sorted(case.id for case in second)
    assert Case.objects.count() == 40


def test_stored_values_read_back_as_the_model_types(sync_client):
    remote = _page(sync_client, 1)[0]

    cases_upsert_page(remotes=[remote])

    case = Case.objects.get(id=remote.id)
    assert isinstance(case.id, uuid.UUID)
    assert str(case.id) == remote.id
    assert isinstance(case.gross_amount, Decimal)
    assert case.gross_amount == remote.gross_amount
    assert case.date_created == remote.date_created
    assert case.date_created.tzinfo is not None
    assert case.raw == remote.raw
    assert case.partner_reference == ""
    assert case.first_opened_at is None


def test_an_upsert_needs_the_primary_key_and_real_columns(db):
    with pytest.raises(ValueError, match="primary key"):
        upsert_plan(Case, columns=["reference"])
    with pytest.raises(ValueError, match="no_such_column"):
        upsert_plan(Case, columns=["id", "no_such_column"])


@pytest.mark.django_db(transaction=True)
def test_only_a_page_transaction_of_its_own_skips_the_commit_flush_wait_on_postgresql(sync_client):
    first = _page(sync_client, 5)
    second = list(sync_client.list_cases(ALL, page=2, page_size=5).cases)
    skip_wait = "SET LOCAL synchronous_commit = off"

    with CaptureQueriesContext(connection) as own:
        cases_upsert_page(remotes=first)
    with CaptureQueriesContext(connection) as callers, transaction.atomic():
        cases_upsert_page(remotes=second)

    expected = 1 if connection.vendor == "postgresql" else 0
    assert sum(q["sql"].startswith(skip_wait) for q in own.captured_queries) == expected
    assert not any(q["sql"].startswith(skip_wait) for q in callers.captured_queries)
    assert Case.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_raw_json_is_compressed_with_lz4_where_the_server_has_it(sync_client):
    if connection.vendor != "postgresql":
        pytest.skip("TOAST compression is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("this server has no lz4")
        cases_upsert_page(remotes=_page(sync_client, 5))
        cursor.execute("SELECT DISTINCT pg_column_compression(raw) FROM cases_case")
        assert cursor.fetchall() == [("lz4",)]


def test_rows_believed_new_that_exist_after_all_are_still_upserted(sync_client):
    page = _page(sync_client, 4)
    cases_upsert_page(remotes=page[:2])
    # WRITTEN_COLUMNS: the case row, then assigned_to_id, synced_at, children_stale, children_priority.
    rows = [(*case_row(_changed(remote, reference="MOVED")), None, LOCAL, True, 0) for remote in page]

    upsert_plan(Case, columns=WRITTEN_COLUMNS).execute(rows, new=True)

    assert Case.objects.count() == 4
    assert set(Case.objects.values_list("reference", flat=True)) == {"MOVED"}
