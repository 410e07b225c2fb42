"""The page pipeline: a thread fetches pages of GET /cases and makes them into case rows while
the caller writes them, a few pages per transaction (on PostgreSQL, writers side by side).
One page or one case written as Debitura sent it goes through the same upsert."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from cases.bulk import upsert_plan
from cases.changes import SYNC, cases_changed_on_commit
from cases.models import Case
from cases.sync.rows import (
    _ASSIGNEE_EMAIL,
    _ID,
    _LIFECYCLE,
    _RAW_HASH,
    _SEARCH_TEXT,
    CASE_COLUMNS,
    CASE_PATHS,
    OPEN_LIFECYCLES,
    WRITTEN_COLUMNS,
    ChildPriority,
    _case_row_from_values,
    case_row,
    search_text,
)
from cases.team import team_user_ids_by_email
from debitura import types
from debitura.client import DebituraClient

log = logging.getLogger(__name__)


@dataclass
class PageResult:
    """What one upserted page did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.created + self.updated


class _Assignees:
    """Portal user ids by Debitura assignee e-mail (cases.team), read on first need, kept for one run."""

    def __init__(self) -> None:
        self._ids: dict[str, int] | None = None
        self._lock = threading.Lock()  # page writers may run side by side

    def id_for(self, email: str) -> int | None:
        if self._ids is None:
            with self._lock:
                if self._ids is None:
                    self._ids = team_user_ids_by_email()
        return self._ids.get(email.lower())


def cases_upsert_page(*, remotes: Sequence[types.Case], now: datetime | None = None) -> PageResult:
    """Write one page of cases in one transaction; children of changed cases are marked stale."""
    return _rows_write(rows=[case_row(remote) for remote in remotes], now=now, assignees=_Assignees())


def _rows_write(
    *, rows: Sequence[tuple[Any, ...]], assignees: _Assignees, now: datetime | None = None
) -> PageResult:
    """cases_upsert_page for rows made by case_row: one read, one upsert, one stamp per page."""
    now = now or timezone.now()
    result = PageResult()
    if not rows:
        return result
    by_id = {row[_ID]: row for row in rows}
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # a caller's transaction (an outbox row beside it) keeps its durable commit
            _page_commit_without_flush_wait()
        existing = {
            str(case_id): (raw_hash, gone_at, partner_reference, assignee_email, assigned_to_id)
            for case_id, raw_hash, gone_at, partner_reference, assignee_email, assigned_to_id in (
                Case.objects.filter(id__in=by_id).values_list(
                    "id",
                    "raw_hash",
                    "gone_at",
                    "partner_reference",
                    "debitura_assignee_email",
                    "assigned_to_id",
                )
            )
        }
        to_write: list[tuple[Any, ...]] = []
        for case_id, row in by_id.items():
            current = existing.get(case_id)
            if current is None:
                result.created.append(case_id)
            elif current[0] == row[_RAW_HASH] and current[1] is None:
                result.unchanged.append(case_id)
                continue
            else:
                result.updated.append(case_id)
                if current[2]:
                    fields = {**dict(zip(CASE_COLUMNS, row, strict=True)), "partner_reference": current[2]}
                    row = (*row[:_SEARCH_TEXT], search_text(fields), *row[_SEARCH_TEXT + 1 :])
            # The portal may reassign locally (Debitura has no call for it); Debitura's assignee
            # wins only when it is new or changed at Debitura.
            email = row[_ASSIGNEE_EMAIL]
            new_assignee = current is None or current[3] != email
            assigned_to_id = assignees.id_for(email) if new_assignee else current[4]  # type: ignore[index]
            priority = ChildPriority.OPEN if row[_LIFECYCLE] in OPEN_LIFECYCLES else ChildPriority.CLOSED
            to_write.append((*row, assigned_to_id, now, True, priority))
        if to_write:
            # Columns the rows carry are Debitura's and overwritten; the others are the portal's
            # own (partner_reference, first_opened_at, exclusivity_* ...): defaulted on insert,
            # never touched on update.
            upsert_plan(Case, columns=WRITTEN_COLUMNS).execute(
                to_write, new=len(result.created) == len(to_write)
            )
        if result.unchanged:
            Case.objects.filter(id__in=result.unchanged).update(synced_at=now)
        cases_changed_on_commit(case_ids=result.changed, origin=SYNC)
    return result


def _page_commit_without_flush_wait() -> None:
    """On PostgreSQL, let this page's commit return before its WAL reaches the disk.

    A crash can then lose the last pages committed (never half a page): the same as a walk
    that stopped there, which the next full reconcile repairs (Debitura stays the truth). The run's
    own synchronous commits flush every page before them. Saves a disk flush wait per page.

    Also compresses the page's `raw` JSON with lz4 where the server has it: a case's JSON is
    above the 2 kB TOAST threshold, so every row is compressed, and pglz costs far more CPU.
    """
    if connection.vendor == "postgresql":
        settings_sql = "SET LOCAL synchronous_commit = off"
        if _has_lz4():
            settings_sql += "; SET LOCAL default_toast_compression = lz4"
        with connection.cursor() as cursor:
            cursor.execute(settings_sql)


_lz4: dict[str, bool] = {}


def _has_lz4() -> bool:
    """Whether the server was built with lz4 (asked once per database alias and process)."""
    if connection.alias not in _lz4:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            )
            row = cursor.fetchone()
        _lz4[connection.alias] = bool(row and row[0])
    return _lz4[connection.alias]


def case_upsert(*, remote: types.Case) -> Case:
    """Write one case as Debitura sent it and return the local row."""
    cases_upsert_page(remotes=[remote])
    return Case.objects.get(id=remote.id)


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of GET /cases made into case rows, and what the walk needs to know to go on."""

    rows: list[tuple[Any, ...]]
    has_next: bool
    last_updated: datetime | None  # dateUpdated of the page's last case


# Pages fetched and made into rows ahead of the one being written. The fetching thread spends
# most of its time waiting for HTTP or the GIL, so a few pages of slack keep the writer fed when
# one page is slow to come; each holds about 300 kB.
PAGES_AHEAD = 6
# A writer waits for PAGES_LEAST pages (fewer when the walk ends) and takes every page already here
# into one transaction, up to PAGES_PER_TRANSACTION. On SQLite each commit rewrites every index
# page its rows touched (a first import's WAL is many times the size of its cases, and the
# checkpoints' fsyncs make the sync wait on the disk); on PostgreSQL each batch costs a
# read and a commit. The waiting happens before the transaction begins: none waits for Debitura.
PAGES_LEAST = 3
PAGES_PER_TRANSACTION = 10


def _page_batches(
    client: DebituraClient,
    filters: types.CaseFilters,
    page_size: int,
    wanted: Callable[[_Page], bool] = lambda page: True,
    least: int = 1,
) -> Generator[list[list[tuple[Any, ...]]], None, None]:
    """The case rows of GET /cases, page after page, in batches of the pages fetched so far (`least`
    to PAGES_PER_TRANSACTION, fewer at the end); a thread fetches and prepares up to PAGES_AHEAD
    pages while the caller writes the ones before.

    `wanted(page)` decides, as soon as a page arrives, whether the walk goes on; a page that
    would not be read is never requested, so fetching ahead costs no extra request.
    """
    ready: queue.Queue[_Page | BaseException | None] = queue.Queue(maxsize=PAGES_AHEAD)
    stop = threading.Event()
    last = CASE_PATHS.index(("date_updated",))

    def fetch() -> None:
        number = 1
        try:
            while not stop.is_set():
                answer = client.list_case_values(CASE_PATHS, filters, page=number, page_size=page_size)
                # Turning cases into rows is pure Python, so it runs here, beside the database's turn.
                page = _Page(
                    rows=[_case_row_from_values(values) for values in answer.cases],
                    has_next=answer.page.has_next,
                    last_updated=answer.cases[-1][last] if answer.cases else None,
                )
                ready.put(page)
                if not (page.rows and page.has_next and wanted(page)):
                    break
                number += 1
            ready.put(None)
        except BaseException as exc:  # handed to the caller's thread and raised there
            ready.put(exc)

    thread = threading.Thread(target=fetch, name="case-pages", daemon=True)
    thread.start()
    try:
        done = False
        while not done:
            batch: list[list[tuple[Any, ...]]] = []
            item = ready.get()
            while True:
                if item is None:
                    done = True
                    break
                if isinstance(item, BaseException):
                    if batch:  # what came before the failure is written first, as it came
                        yield batch
                    raise item
                batch.append(item.rows)
                if len(batch) == PAGES_PER_TRANSACTION:
                    break
                try:
                    item = ready.get() if len(batch) < least else ready.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
    finally:
        # The caller stopped early (a write failed): let the thread finish the page it is on.
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)


def _pages_write(
    *, pages: Sequence[Sequence[tuple[Any, ...]]], assignees: _Assignees, now: datetime | None = None
) -> PageResult:
    """Write pages of case rows that arrived together: one transaction, one read, one upsert."""
    return _rows_write(rows=[row for rows in pages for row in rows], assignees=assignees, now=now)


# PostgreSQL writers working side by side, each on a connection of its own. One server process
# indexes, parses and toasts a page more slowly than the portal fetches and reads one, so with
# one the walk would wait on the database; SQLite has one writer at a time anyway.
POSTGRESQL_WRITERS = 2


def _batches_write(
    *,
    batches: Generator[list[list[tuple[Any, ...]]], None, None],
    assignees: _Assignees,
    now: datetime | None = None,
) -> Iterator[tuple[int, PageResult]]:
    """Write each batch with _pages_write and yield (pages, result) as batches are done.

    On PostgreSQL, outside a caller's transaction, POSTGRESQL_WRITERS threads write the batches
    after the first side by side; elsewhere the caller's connection writes them one after another.
    Batches hold different cases (a case that moved between pages during the walk can be in two;
    the later commit wins, as a later page did before, and the next sync sets it right).
    """
    with contextlib.closing(batches), _sqlite_walk():  # closing: a failed write stops the fetch at once
        # The first batch on the caller's connection: a walk of one batch (the usual incremental
        # sync) opens no other connections.
        for pages in batches:
            yield len(pages), _pages_write(pages=pages, assignees=assignees, now=now)
            if _side_by_side():
                yield from _batches_write_side_by_side(batches=batches, assignees=assignees, now=now)
                break


@contextlib.contextmanager
def _sqlite_walk() -> Iterator[None]:
    """On SQLite, for the walk only: a page cache that holds the index pages it writes (with the
    default 2 MB a large first sync reads them back from the OS page by page; 32 MB leaves room
    for larger tables), and checkpoints every 40 MB of WAL instead of every 4 MB, then one as the
    walk ends (each checkpoint makes the writer wait for two fsyncs)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        (cache,) = cursor.execute("PRAGMA cache_size").fetchone()
        (checkpoint,) = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()
        cursor.execute("PRAGMA cache_size = -32768")
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
            if not connection.in_atomic_block:
                # PASSIVE: copies what it can without waiting for readers or writers.
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _side_by_side() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block and POSTGRESQL_WRITERS > 1


def _batches_write_side_by_side(
    *,
    batches: Iterator[list[list[tuple[Any, ...]]]],
    assignees: _Assignees,
    now: datetime | None,
) -> Iterator[tuple[int, PageResult]]:
    """_batches_write's writer threads; a failure in one stops the rest after their batch."""
    work: queue.Queue[list[list[tuple[Any, ...]]] | None] = queue.Queue(maxsize=1)
    done: queue.Queue[tuple[int, PageResult] | BaseException] = queue.Queue()
    failed = threading.Event()

    def write() -> None:
        try:
            while (pages := work.get()) is not None:
                if failed.is_set():
                    continue  # drain what was handed out; the run is stopping
                try:
                    done.put((len(pages), _pages_write_again_after_deadlock(pages, assignees, now)))
                except BaseException as exc:  # raised in the caller's thread
                    failed.set()
                    done.put(exc)
        finally:
            connections.close_all()  # this thread's connections only

    writers = [
        threading.Thread(target=write, name=f"case-writer-{number}", daemon=True)
        for number in range(POSTGRESQL_WRITERS)
    ]
    for writer in writers:
        writer.start()
    try:
        for pages in batches:
            if failed.is_set():
                break
            work.put(pages)
            while not done.empty():
                yield _written(done.get())
    finally:
        for _writer in writers:
            work.put(None)
        for writer in writers:
            writer.join()
    while not done.empty():
        yield _written(done.get())


def _pages_write_again_after_deadlock(
    pages: Sequence[Sequence[tuple[Any, ...]]], assignees: _Assignees, now: datetime | None
) -> PageResult:
    """_pages_write, once more if PostgreSQL chose it as a deadlock's victim (rolled back whole).

    Two writers can only lock each other out over cases that moved between pages during the walk
    and landed in both of their batches, in opposite orders.
    """
    try:
        return _pages_write(pages=pages, assignees=assignees, now=now)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "40P01":  # deadlock_detected
            raise
        log.info("sync pages chosen as a deadlock victim; writing them again")
        return _pages_write(pages=pages, assignees=assignees, now=now)


def _written(item: tuple[int, PageResult] | BaseException) -> tuple[int, PageResult]:
    if isinstance(item, BaseException):
        raise item
    return item
