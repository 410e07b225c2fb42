"""How a sync moves pages: fetched ahead in a thread, written in batches, side by side on PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import OperationalError, connection

from cases.models import Case
from cases.sync import NEWEST_FIRST, PAGES_PER_TRANSACTION, cases_sync_full, cases_sync_incremental
from cases.sync import pages as pipeline
from debitura.emulator import Emulator
from debitura.errors import ServerError
from tests.fixtures.case_json import FIELD_PATHS, UUID_PATHS, dig, remote_json
from tests.fixtures.cases import hide_case
from tests.fixtures.gateway import make_client

pytestmark = pytest.mark.django_db

ALL = NEWEST_FIRST


def _threads_left() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("case-pages", "case-writer"))]


def test_pages_already_fetched_are_handed_over_together_each_once_and_in_order(sync_client):
    batches = []
    for batch in pipeline._page_batches(sync_client, ALL, 5):
        time.sleep(0.05)  # a slow writer: the fetching thread gets ahead
        batches.append(batch)

    pages = [page for batch in batches for page in batch]
    assert len(pages) == 10  # 50 cases, 5 a page
    assert max(len(batch) for batch in batches) > 1
    assert max(len(batch) for batch in batches) <= PAGES_PER_TRANSACTION
    expected = list(sync_client.list_cases(ALL, page=1, page_size=50).cases)
    assert [row[0] for page in pages for row in page] == [case.id for case in expected]
    assert not _threads_left()


def test_a_walk_that_stops_early_requests_no_page_beyond_the_one_that_stopped_it(emulator, sync_client):
    before = emulator.stats()["requests"].get("GET /cases", 0)

    batches = list(pipeline._page_batches(sync_client, ALL, 5, wanted=lambda page: False))

    assert [len(batch) for batch in batches] == [1]
    assert emulator.stats()["requests"]["GET /cases"] - before == 1


def test_a_failed_page_fetch_keeps_the_pages_before_it_and_is_recorded(monkeypatch, emulator, sync_client):
    list_case_values = sync_client.list_case_values
    calls = []

    def third_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise ServerError("GET /cases answered 503", status=503, ambiguous=False)
        return list_case_values(*args, **kwargs)

    monkeypatch.setattr(sync_client, "list_case_values", third_fails)

    run = cases_sync_incremental(client=sync_client, page_size=10)

    assert "503" in run.error
    assert Case.objects.count() == run.created == 20
    assert len(calls) == 3
    assert not _threads_left()


def test_the_next_sync_after_a_walk_broken_part_way_fetches_the_pages_it_left_unread(
    monkeypatch, emulator, sync_client
):
    cases_sync_incremental(client=sync_client, page_size=10)  # a complete walk: 50 cases
    # Three pages' worth change at Debitura, ten minutes apart page by page (well past the overlap).
    with emulator.state.lock:
        pool = sorted((c for c in emulator.state.cases.values() if not c.is_test), key=lambda c: c.id)[:30]
    for group in (pool[:10], pool[10:20], pool[20:]):
        with emulator.state.lock:
            for case in group:
                emulator.state.touch(case)
        emulator.advance_clock(600)
    changed = [case.id for case in pool]
    list_case_values = sync_client.list_case_values
    calls = []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ServerError("GET /cases answered 503", status=503, ambiguous=False)
        return list_case_values(*args, **kwargs)

    monkeypatch.setattr(sync_client, "list_case_values", second_fails)
    broken = cases_sync_incremental(client=sync_client, page_size=10)
    monkeypatch.setattr(sync_client, "list_case_values", list_case_values)

    again = cases_sync_incremental(client=sync_client, page_size=10)

    assert "503" in broken.error
    assert broken.updated == 10
    assert again.error == ""
    assert again.updated == 20, "the two pages the broken walk never read"
    remote = {c.id: c.date_updated for c in sync_client.list_cases(ALL, page=1, page_size=50).cases}
    local = dict(Case.objects.values_list("id", "remote_updated_at"))
    assert all(local[uuid.UUID(case_id)] == remote[case_id] for case_id in changed)


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_stops_the_walk_and_leaves_no_thread_behind(monkeypatch, emulator, sync_client):
    pages_write = pipeline._pages_write
    calls = []

    def second_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return pages_write(**kwargs)

    monkeypatch.setattr(pipeline, "_pages_write", second_fails)

    with pytest.raises(RuntimeError, match="disk full"):
        cases_sync_incremental(client=sync_client, page_size=1)

    assert not _threads_left()
    # The walk stopped: of the 50 pages, at most two batches, the queue and the page in flight
    # (10 + 10 + PAGES_AHEAD + 1 = 27) were asked for.
    assert (
        emulator.stats()["requests"]["GET /cases"]
        <= 2 * pipeline.PAGES_PER_TRANSACTION + pipeline.PAGES_AHEAD + 1
    )


@pytest.mark.django_db(transaction=True)
def test_writers_side_by_side_on_postgresql_store_every_case_with_every_field(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    emulator = Emulator(cases=600, seed=5, api_key="test-api-key")
    pages_write = pipeline._pages_write
    writers = set()

    def recorded(**kwargs):
        writers.add(threading.current_thread().name)
        time.sleep(0.01)  # give the other writer a batch too
        return pages_write(**kwargs)

    monkeypatch.setattr(pipeline, "_pages_write", recorded)

    with make_client(emulator.transport(), event_hooks={}) as client:
        run = cases_sync_incremental(client=client, page_size=20)

    assert not run.error
    assert writers == {"MainThread", "case-writer-0", "case-writer-1"}
    assert run.pages == 30
    assert Case.objects.count() == run.created == 600
    for case in Case.objects.order_by("id")[::37]:
        remote = remote_json(emulator, str(case.id))
        for column, path in FIELD_PATHS.items():
            expected, actual = dig(remote, path), getattr(case, column)
            assert actual == expected or (expected is None and actual in ("", None)), column
        for column, paths in UUID_PATHS.items():
            expected = next((value for path in paths if (value := dig(remote, path))), None)
            assert (str(getattr(case, column)) if getattr(case, column) else None) == expected, column
    assert not _threads_left()


def test_a_batch_chosen_as_a_deadlock_victim_is_written_once_more(monkeypatch, sync_client):
    pages_write = pipeline._pages_write
    calls = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def first_deadlocks(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return pages_write(**kwargs)

    monkeypatch.setattr(pipeline, "_pages_write", first_deadlocks)
    pages = [next(iter(pipeline._page_batches(sync_client, ALL, 50)))[0]]

    result = pipeline._pages_write_again_after_deadlock(pages, pipeline._Assignees(), None)

    assert len(calls) == 2
    assert len(result.created) == Case.objects.count() == 50


def test_other_database_errors_are_not_retried(monkeypatch, sync_client):
    def fails(**kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(pipeline, "_pages_write", fails)

    with pytest.raises(OperationalError):
        pipeline._pages_write_again_after_deadlock([[]], pipeline._Assignees(), None)


def test_a_walk_on_sqlite_writes_with_a_larger_page_cache_and_gives_the_settings_back(
    monkeypatch, sync_client
):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page cache and checkpoints")

    def pragmas():
        with connection.cursor() as cursor:
            return [
                cursor.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("cache_size", "wal_autocheckpoint")
            ]

    before = pragmas()
    pages_write = pipeline._pages_write
    during = []

    def recorded(**kwargs):
        during.append(pragmas())
        return pages_write(**kwargs)

    monkeypatch.setattr(pipeline, "_pages_write", recorded)

    run = cases_sync_incremental(client=sync_client, page_size=10)

    assert not run.error
    assert during
    assert all(values == [-32768, 10000] for values in during)
    assert pragmas() == before != [-32768, 10000]


@pytest.mark.django_db(transaction=True)
def test_a_walk_of_one_batch_writes_on_the_callers_connection_alone(monkeypatch, sync_client):
    pages_write = pipeline._pages_write
    writers = set()

    def recorded(**kwargs):
        writers.add(threading.current_thread().name)
        return pages_write(**kwargs)

    monkeypatch.setattr(pipeline, "_pages_write", recorded)

    run = cases_sync_incremental(client=sync_client, page_size=25)

    assert (run.pages, run.created) == (2, 50)
    assert writers == {"MainThread"}


@pytest.mark.django_db(transaction=True)
def test_a_full_reconcile_with_writers_side_by_side_marks_only_the_vanished_case_gone(emulator, sync_client):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    assert not cases_sync_incremental(client=sync_client, page_size=5).error
    vanished = sorted(emulator.state.cases)[0]
    hide_case(emulator, vanished)

    run = cases_sync_full(client=sync_client, page_size=5)

    assert not run.error
    assert run.gone == 1
    assert list(Case.objects.filter(gone_at__isnull=False).values_list("id", flat=True)) == [
        uuid.UUID(vanished)
    ]
    assert not _threads_left()
