"""Pulling cases from Debitura into the local copy: pages, single cases, children, the team.

The API is the truth: every write here overwrites local values with Debitura's. Pages are
upserted in bulk, one transaction per page; children (timeline, chat, payments, files,
exclusivity, validation) are refreshed per case, all at once, when the case's stamp moved.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from cases.bulk import upsert_plan
from cases.children import child_parts
from cases.models import (
    Case,
    CaseFile,
    ChatMessage,
    ChildrenProgress,
    ExclusivityExtension,
    LifecycleChoices,
    SyncRun,
    TeamMember,
    TimelineItem,
    ValidationItem,
)
from cases.team import team_user_ids_by_email
from cases.unread import case_unread_recount
from debitura import types
from debitura.client import DebituraClient, get_client
from debitura.enums import Lifecycle
from debitura.errors import DebituraError, NotFound, TransientError
from debitura.types import attribute
from outbox.models import OutboxAction

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# Statuses a partner can see; a full reconcile walks each so nothing hides behind a default.
PARTNER_STATUSES = (
    Lifecycle.PENDING_VERIFICATION,
    Lifecycle.NEEDS_ADDITIONAL_DETAILS,
    Lifecycle.LEADS,
    Lifecycle.LEADS_QUOTE_GIVEN,
    Lifecycle.ACTIVE,
    Lifecycle.PAUSED,
    Lifecycle.CLOSED,
    Lifecycle.MERGED,
)
OPEN_LIFECYCLES = (
    LifecycleChoices.PENDING_VERIFICATION,
    LifecycleChoices.ACTIVE,
    LifecycleChoices.PAUSED,
    LifecycleChoices.NEEDS_ADDITIONAL_DETAILS,
)


class ChildPriority:
    """Order of the child-refresh queue: what an agent opened, then open cases, then the rest."""

    CLOSED = 0
    OPEN = 1
    OPENED_BY_AGENT = 2


def _s(value: str | None) -> str:
    return value or ""


# Where each value the local copy keeps is found on debitura.types.Case, in the order
# _case_row_from_values unpacks them. The sync reads these straight from each page's JSON
# (DebituraClient.list_case_values, no Case objects); single cases come as Case objects and are
# read through the same paths, so both go through one mapping.
CASE_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("reference",),
    ("creditor_reference",),
    ("is_test_case",),
    ("lifecycle",),
    ("close_code",),
    ("current_engagement_phase",),
    ("claim_type",),
    ("claim_description",),
    ("creditor_comments",),
    ("dispute_status",),
    ("needs_info",),
    ("solution_url",),
    ("currency",),
    ("gross_amount",),
    ("interest_fees",),
    ("reminder_fees",),
    ("collection_fees",),
    ("total_added_fees",),
    ("remainder",),
    ("allocation_outstanding", "principal"),
    ("allocation_outstanding", "interest"),
    ("allocation_outstanding", "reminder_fees"),
    ("allocation_outstanding", "collection_fees"),
    ("pre_legal_success_fee",),
    ("blended_age_uplift_points",),
    ("date_created",),
    ("date",),
    ("due_date",),
    ("date_finished",),
    ("date_collection_started",),
    ("exclusive_period_end_date",),
    ("debtor", "type"),
    ("debtor", "name"),
    ("debtor", "contact_person"),
    ("debtor", "company_registration_number"),
    ("debtor", "address"),
    ("debtor", "zip_code"),
    ("debtor", "city"),
    ("debtor", "state"),
    ("debtor", "country_alpha2"),
    ("debtor", "country"),
    ("debtor", "email"),
    ("debtor", "phone"),
    ("creditor", "id"),
    ("creditor", "company_name"),
    ("creditor", "company_registration_number"),
    ("creditor", "office_email"),
    ("creditor", "office_phone"),
    ("creditor", "address"),
    ("creditor", "zip_code"),
    ("creditor", "city"),
    ("creditor", "state"),
    ("creditor", "country"),
    ("creditor_division_id",),
    ("creditor", "division", "id"),
    ("creditor", "division", "name"),
    ("assigned_user", "email"),
    ("assigned_user", "name"),
    ("raw_json",),
    ("date_updated",),
)

# The columns of a case row (case_row), in order: Debitura's values and what follows from them.
CASE_COLUMNS: tuple[str, ...] = (
    "id",
    "reference",
    "creditor_reference",
    "is_test_case",
    "lifecycle",
    "close_code",
    "engagement_phase",
    "claim_type",
    "claim_description",
    "creditor_comments",
    "dispute_status",
    "needs_info",
    "solution_url",
    "currency",
    "gross_amount",
    "interest_fees",
    "reminder_fees",
    "collection_fees",
    "total_added_fees",
    "remainder",
    "outstanding_principal",
    "outstanding_interest",
    "outstanding_reminder_fees",
    "outstanding_collection_fees",
    "success_fee",
    "age_uplift_points",
    "date_created",
    "claim_date",
    "due_date",
    "date_finished",
    "date_collection_started",
    "exclusive_period_end",
    "debtor_type",
    "debtor_name",
    "debtor_contact_person",
    "debtor_registration_number",
    "debtor_address",
    "debtor_zip_code",
    "debtor_city",
    "debtor_state",
    "debtor_country_code",
    "debtor_country",
    "debtor_email",
    "debtor_phone",
    "creditor_id",
    "creditor_name",
    "creditor_registration_number",
    "creditor_email",
    "creditor_phone",
    "creditor_address",
    "creditor_zip_code",
    "creditor_city",
    "creditor_state",
    "creditor_country",
    "creditor_division_id",
    "creditor_division_name",
    "debitura_assignee_email",
    "debitura_assignee_name",
    "raw",
    "raw_hash",
    "remote_updated_at",
    "gone_at",
    "search_text",
)
_ID, _LIFECYCLE, _RAW_HASH, _SEARCH_TEXT = (
    CASE_COLUMNS.index(c) for c in ("id", "lifecycle", "raw_hash", "search_text")
)
_ASSIGNEE_EMAIL = CASE_COLUMNS.index("debitura_assignee_email")
# What a page write adds to each row it writes.
WRITTEN_COLUMNS = (*CASE_COLUMNS, "assigned_to_id", "synced_at", "children_stale", "children_priority")


def _case_row_from_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A case row (CASE_COLUMNS) from a case's values at CASE_PATHS."""
    (
        case_id, reference, creditor_reference, is_test_case, lifecycle, close_code, phase, claim_type,
        claim_description, creditor_comments, dispute_status, needs_info, solution_url, currency,
        gross_amount, interest_fees, reminder_fees, collection_fees, total_added_fees, remainder,
        outstanding_principal, outstanding_interest, outstanding_reminder_fees, outstanding_collection_fees,
        success_fee, age_uplift_points,
        date_created, claim_date, due_date, date_finished, date_collection_started, exclusive_period_end,
        debtor_type, debtor_name, debtor_contact, debtor_registration, debtor_address, debtor_zip,
        debtor_city, debtor_state, debtor_country_code, debtor_country, debtor_email, debtor_phone,
        creditor_id, creditor_name, creditor_registration, creditor_email, creditor_phone, creditor_address,
        creditor_zip, creditor_city, creditor_state, creditor_country,
        top_division_id, division_id, division_name, assignee_email, assignee_name,
        raw, date_updated,
    ) = values  # fmt: skip
    reference, creditor_reference = reference or "", creditor_reference or ""
    debtor_name, debtor_contact = debtor_name or "", debtor_contact or ""
    debtor_email, debtor_phone = debtor_email or "", debtor_phone or ""
    creditor_name, creditor_email = creditor_name or "", creditor_email or ""
    return (
        str(case_id), reference, creditor_reference, is_test_case,
        (lifecycle or Lifecycle.UNKNOWN).value, close_code.value if close_code else "",
        _s(phase), _s(claim_type), _s(claim_description), _s(creditor_comments), _s(dispute_status),
        needs_info, _s(solution_url)[:500], _s(currency).upper()[:3],
        gross_amount, interest_fees, reminder_fees, collection_fees, total_added_fees, remainder,
        outstanding_principal, outstanding_interest, outstanding_reminder_fees, outstanding_collection_fees,
        success_fee, age_uplift_points,
        date_created, claim_date, due_date, date_finished, date_collection_started, exclusive_period_end,
        _s(debtor_type), debtor_name, debtor_contact, _s(debtor_registration), _s(debtor_address),
        _s(debtor_zip), _s(debtor_city), _s(debtor_state), _s(debtor_country_code).upper()[:2],
        _s(debtor_country), debtor_email, debtor_phone,
        creditor_id, creditor_name, _s(creditor_registration), creditor_email, _s(creditor_phone),
        _s(creditor_address), _s(creditor_zip), _s(creditor_city), _s(creditor_state), _s(creditor_country),
        top_division_id or division_id, _s(division_name), _s(assignee_email), _s(assignee_name),
        raw, hashlib.blake2b(raw.encode(), digest_size=16).hexdigest(),
        date_updated or date_created, None,
        _haystack(reference, "", creditor_reference, debtor_name, debtor_contact, debtor_email,
                  debtor_phone, creditor_name, creditor_email),
    )  # fmt: skip


def case_row(remote: types.Case) -> tuple[Any, ...]:
    """The local column values (CASE_COLUMNS) for a case as Debitura sent it (`raw` as JSON text)."""
    return _case_row_from_values(tuple(attribute(remote, path) for path in CASE_PATHS))


def search_text(fields: dict[str, Any]) -> str:
    """The lower-cased haystack the case search box looks in."""
    return _haystack(
        *(
            fields.get(name) or ""
            for name in (
                "reference",
                "partner_reference",
                "creditor_reference",
                "debtor_name",
                "debtor_contact_person",
                "debtor_email",
                "debtor_phone",
                "creditor_name",
                "creditor_email",
            )
        )
    )


def _haystack(
    reference: str,
    partner_reference: str,
    creditor_reference: str,
    debtor_name: str,
    debtor_contact: str,
    debtor_email: str,
    debtor_phone: str,
    creditor_name: str,
    creditor_email: str,
) -> str:
    parts = (
        reference,
        partner_reference,
        creditor_reference,
        debtor_name,
        debtor_contact,
        debtor_email,
        debtor_phone,
        # Phone numbers are typed with and without spaces and dashes; keep both forms.
        "".join(ch for ch in debtor_phone if ch.isdigit() or ch == "+"),
        creditor_name,
        creditor_email,
    )
    return " | ".join(p for p in parts if p).lower()


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


# --- Sync runs ----------------------------------------------------------------------------------

INCREMENTAL_OVERLAP = timedelta(minutes=2)
# Test cases are included so agencies can rehearse in the portal; the list hides them by default.
NEWEST_FIRST = types.CaseFilters(sort="DateUpdated:desc", include_test_cases=True)


def _high_water_mark() -> datetime | None:
    return Case.objects.aggregate(mark=Max("remote_updated_at"))["mark"]


def _last_complete_mark() -> datetime | None:
    """Where the last whole walk ended. A walk that stopped part-way (Debitura failing, a killed
    worker) stored its newest pages but not the older ones, so the newest stamp held locally
    would make the next walk stop before them; it goes back to the last complete walk instead."""
    complete = (
        SyncRun.objects.filter(
            kind__in=[SyncRun.Kind.INCREMENTAL, SyncRun.Kind.FULL],
            finished_at__isnull=False,
            error="",
            high_water_mark__isnull=False,
        )
        .order_by("-started_at")
        .values_list("high_water_mark", flat=True)
        .first()
    )
    return complete


def _run_finish(run: SyncRun, error: BaseException | None = None) -> SyncRun:
    run.finished_at = timezone.now()
    if error is not None:
        run.error = str(error) if isinstance(error, DebituraError) else f"{type(error).__name__}: {error}"
    run.save()
    return run


def _tally(run: SyncRun, result: PageResult, pages: int = 1) -> None:
    run.pages += pages
    run.requests += pages
    run.created += len(result.created)
    run.updated += len(result.updated)
    run.unchanged += len(result.unchanged)


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


def cases_sync_incremental(*, client: DebituraClient | None = None, page_size: int = PAGE_SIZE) -> SyncRun:
    """Pull what changed since the newest stamp we hold (everything on the first run).

    Pages come newest first (DateUpdated:desc); the walk stops at the first page that reaches
    back past the high-water mark less an overlap, so with nothing changed it costs one request.
    """
    client = client or get_client()
    mark = _last_complete_mark()
    stop_before = mark - INCREMENTAL_OVERLAP if mark else None

    def newer_than_mark(page: _Page) -> bool:
        oldest = page.last_updated
        return stop_before is None or oldest is None or oldest >= stop_before

    run = SyncRun.objects.create(kind=SyncRun.Kind.INCREMENTAL, high_water_mark=mark)
    assignees = _Assignees()
    try:
        batches = _page_batches(client, NEWEST_FIRST, page_size, newer_than_mark, PAGES_LEAST)
        for pages, result in _batches_write(batches=batches, assignees=assignees):
            _tally(run, result, pages)
        run.high_water_mark = _high_water_mark()
    except DebituraError as exc:
        log.warning("incremental sync stopped: %s", exc)
        return _run_finish(run, exc)
    log.info(
        "incremental sync: %d pages, %d created, %d updated, %d unchanged",
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
    )
    return _run_finish(run)


def cases_sync_full(*, client: DebituraClient | None = None, page_size: int = PAGE_SIZE) -> SyncRun:
    """Walk every partner-facing status; cases no longer visible are marked gone (kept)."""
    client = client or get_client()
    run = SyncRun.objects.create(kind=SyncRun.Kind.FULL, high_water_mark=_high_water_mark())
    assignees = _Assignees()
    try:
        for status in PARTNER_STATUSES:
            filters = types.CaseFilters(statuses=[status], sort="DateCreated:asc", include_test_cases=True)
            batches = _page_batches(client, filters, page_size, least=PAGES_LEAST)
            for pages, result in _batches_write(batches=batches, assignees=assignees, now=run.started_at):
                _tally(run, result, pages)
    except DebituraError as exc:
        # A partial walk proves nothing about what is gone: mark nothing.
        log.warning("full sync stopped: %s", exc)
        return _run_finish(run, exc)
    # Every case the walk saw was stamped synced_at = run start; the rest are no longer visible.
    run.gone = Case.objects.filter(gone_at__isnull=True, synced_at__lt=run.started_at).update(
        gone_at=timezone.now()
    )
    run.high_water_mark = _high_water_mark()
    log.info(
        "full sync: %d pages, %d created, %d updated (drift), %d unchanged, %d gone",
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
        run.gone,
    )
    return _run_finish(run)


# The rate is measured over the last ten minutes; pages read the progress at most every 15 s.
CHILDREN_RATE_MINUTES = 10
CHILDREN_PROGRESS_CACHE_SECONDS = 15


def children_progress_measure(*, now: datetime | None = None) -> ChildrenProgress:
    """Count the visible cases whose children were fetched at least once and the rate at which
    the rest follows (over the last minutes, or before anything was measured what the rate limit
    allows at the idle share), and keep it in the one ChildrenProgress row the pages read.

    Run by the children queue after each batch: pages never count the case table themselves.
    """
    from cases.counts import case_counts

    now = now or timezone.now()
    total = sum(case_counts(include_test=True).values())  # the count triggers keep it: a few rows
    since = now - timedelta(minutes=CHILDREN_RATE_MINUTES)
    recent_filter = Q(children_synced_at__gte=since, gone_at__isnull=True)
    # One read of the children_synced_at index: the never fetched, and those of the last minutes.
    counts = Case.objects.filter(
        Q(children_synced_at__isnull=True) | Q(children_synced_at__gte=since)
    ).aggregate(
        left=Count("id", filter=Q(children_synced_at__isnull=True, gone_at__isnull=True)),
        recent=Count("id", filter=recent_filter),
        first=Min("children_synced_at", filter=recent_filter),
    )
    if counts["recent"] > 1:
        # Since the first refresh in the window, not the whole window (an import that began a
        # minute ago is not ten times as slow as it is), and at least one beat of the queue (a
        # batch is done within seconds of its start, then waits for the next).
        span = max((now - counts["first"]).total_seconds(), CHILDREN_BEAT_SECONDS) / 60
        per_minute, measured = counts["recent"] / span, True
    else:
        per_minute, measured = _children_budget(True, 60) / CHILD_REQUESTS_PER_CASE, False
    progress, _ = ChildrenProgress.objects.update_or_create(
        id=1,
        defaults={
            "done": max(0, total - counts["left"]),
            "total": total,
            "per_minute": per_minute,
            "measured": measured,
            "measured_at": now,
        },
    )
    return progress


def children_progress() -> ChildrenProgress:
    """How far the children of every case have been fetched, as the children queue last measured
    it (one row, kept 15 s in Django's cache); nothing to say before it first measured."""
    from django.core.cache import cache

    cached = cache.get("cases:children-progress")
    if isinstance(cached, ChildrenProgress):
        return cached
    progress = ChildrenProgress.objects.filter(id=1).first() or ChildrenProgress(id=1)
    cache.set("cases:children-progress", progress, CHILDREN_PROGRESS_CACHE_SECONDS)
    return progress


def sync_status() -> dict[str, Any]:
    """What the header badge shows: the last successful sync, a running one, the last failure,
    and how far the first fetch of every case's children is."""
    latest = SyncRun.objects.order_by("-started_at").first()
    last_ok = SyncRun.objects.filter(finished_at__isnull=False, error="").order_by("-started_at").first()
    running = (
        latest is not None
        and latest.finished_at is None
        and latest.started_at > timezone.now() - timedelta(minutes=15)
    )
    failing_since = None
    if latest is not None and latest.error:
        first_failure = (
            SyncRun.objects.exclude(error="")
            .filter(started_at__gt=last_ok.started_at if last_ok else datetime.min.replace(tzinfo=UTC))
            .order_by("started_at")
            .first()
        )
        failing_since = first_failure.started_at if first_failure else latest.started_at
    return {
        "last_ok": last_ok,
        "running": running,
        "failing_since": failing_since,
        "error": latest.error if latest is not None and latest.error else "",
        "progress": children_progress(),
    }


# --- One case and its children ------------------------------------------------------------------


def case_refresh(*, case_id: str, client: DebituraClient | None = None, children: bool = True) -> Case | None:
    """Re-fetch one case (and its children) from Debitura; None when Debitura no longer shows it."""
    client = client or get_client()
    try:
        remote = client.get_case(str(case_id))
    except NotFound:
        Case.objects.filter(id=case_id, gone_at__isnull=True).update(gone_at=timezone.now())
        return None
    case = case_upsert(remote=remote)
    if children:
        case_children_refresh(case=case, client=client)
    return Case.objects.get(id=case.id)


# A case's children, each one request: what case_children_refresh fetches, in this order.
# "payments" is the payments app's part (cases.children), fetched and stored through it.
CHILD_PARTS = ("timeline", "chats", "payments", "files", "exclusivity", "validation")


def _children_fetch(client: DebituraClient, case_id: str, parts: Sequence[str]) -> dict[str, Any]:
    fetch: dict[str, Callable[[str], Any]] = {
        "timeline": client.get_timeline,
        "chats": client.list_chats,
        "files": client.list_files,
        "exclusivity": client.get_exclusive_period,
        "validation": client.get_case_validation,
    }
    for other in child_parts():
        fetch[other.name] = functools.partial(other.fetch, client)
    return {part: fetch[part](case_id) for part in CHILD_PARTS if part in parts and part in fetch}


def _children_write(case: Case, fetched: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Replace the fetched children of a case (call inside a transaction); returns the case
    columns they decide, for the caller's update of the case row."""
    _refuse_to_move(case, fetched.get("chats", ()), fetched.get("files", ()))
    columns: dict[str, Any] = {}
    if "timeline" in fetched:
        timeline = fetched["timeline"]
        TimelineItem.objects.filter(case=case).delete()
        TimelineItem.objects.bulk_create(
            TimelineItem(
                case=case,
                position=position,
                date=item.date,
                type=_s(item.type),
                title=_s(item.title)[:500],
                description=_s(item.description),
                actor_type=_s(item.actor.type if item.actor else None),
                actor_name=_s(item.actor.name if item.actor else None),
            )
            for position, item in enumerate(timeline.items)
        )
        if timeline.current_engagement_phase:  # Debitura names it on Active cases only
            columns["engagement_phase"] = timeline.current_engagement_phase
    if "chats" in fetched:
        chats = fetched["chats"]
        ChatMessage.objects.filter(case=case).exclude(id__in=[chat.id for chat in chats]).delete()
        for chat in chats:
            chat_store(case=case, remote=chat)
        case_unread_recount(case_id=case.id)
    if "files" in fetched:
        files = fetched["files"]
        CaseFile.objects.filter(case=case).exclude(id__in=[f.id for f in files]).delete()
        for remote_file in files:
            CaseFile.objects.update_or_create(
                id=remote_file.id,
                defaults={
                    "case": case,
                    "file_name": _s(remote_file.file_name)[:300],
                    "url": _s(remote_file.url),
                    "url_fetched_at": now,
                    "description": _s(remote_file.description)[:500],
                    "document_type": _s(remote_file.document_type),
                    "entity_type": _s(remote_file.entity_type),
                    "date_created": remote_file.date_created,
                },
            )
    if "exclusivity" in fetched:
        exclusivity = fetched["exclusivity"]
        ExclusivityExtension.objects.filter(case=case).delete()
        if exclusivity is not None:
            ExclusivityExtension.objects.bulk_create(
                ExclusivityExtension(
                    case=case,
                    position=position,
                    type=_s(ext.type),
                    event_date=ext.event_date,
                    new_end_date=ext.new_end_date,
                )
                for position, ext in enumerate(exclusivity.extensions)
            )
        columns.update(
            exclusivity_start=exclusivity.engagement_start_date if exclusivity else None,
            exclusivity_status=_s(exclusivity.status) if exclusivity else "",
        )
        if exclusivity is not None and exclusivity.current_end_date is not None:
            columns["exclusive_period_end"] = exclusivity.current_end_date
    if "validation" in fetched:
        validation = fetched["validation"]
        ValidationItem.objects.filter(case=case).delete()
        ValidationItem.objects.bulk_create(
            ValidationItem(
                case=case, resolution_area=_s(item.resolution_area), description=_s(item.description)
            )
            for item in validation.items
        )
        columns["creditor_responded_at"] = validation.creditor_responded_at
    for other in child_parts():
        if other.name in fetched:
            other.store(case, fetched[other.name], now)
    return columns


def chat_store(*, case: Case, remote: types.Chat) -> None:
    """Write one chat message as Debitura sent it (the caller has checked no other case holds its id)."""
    user = remote.user
    ChatMessage.objects.update_or_create(
        id=remote.id,
        defaults={
            "case": case,
            "date_created": remote.date_created,
            "role": int(remote.role or 0),
            "role_label": _s(remote.role_label),
            "message": _s(remote.message),
            "is_seen": remote.is_seen,
            "author_email": _s(user.email if user else None),
            "author_name": " ".join(filter(None, [user.first_name, user.last_name])) if user else "",
        },
    )


def case_children_refresh(*, case: Case, client: DebituraClient | None = None) -> None:
    """Replace a case's timeline, chat, payments, files, exclusivity chain and validation items."""
    client = client or get_client()
    fetched = _children_fetch(client, str(case.id), CHILD_PARTS)
    now = timezone.now()
    with transaction.atomic():
        columns = _children_write(case, fetched, now)
        Case.objects.filter(id=case.id).update(
            children_synced_at=now,
            children_stale=False,
            children_error="",
            children_failures=0,
            children_retry_at=None,
            children_priority=ChildPriority.OPEN
            if case.lifecycle in OPEN_LIFECYCLES
            else ChildPriority.CLOSED,
            **columns,
        )


def case_children_store(*, case_id: str, fetched: dict[str, Any]) -> None:
    """Write some children of a case that were fetched (or put together) elsewhere, as the relay
    does with a listing it read before its send plus Debitura's answer. Call inside a transaction."""
    # Most parts need only the case's id; another app's part may read some of its columns
    # (payments take the case's currency where Debitura leaves it out).
    needed = sorted({name for p in child_parts() if p.name in fetched for name in p.case_fields})
    case = Case.objects.only("id", *needed).get(id=case_id) if needed else Case(id=case_id)
    columns = _children_write(case, fetched, timezone.now())
    if columns:
        Case.objects.filter(id=case.id).update(**columns)


def case_read_back(*, case_id: str, parts: Collection[str], client: DebituraClient) -> None:
    """Re-read what an agent's action changed: the case itself ("case") and/or some of its
    children (CHILD_PARTS). With every part it is case_refresh; a partial read leaves the case's
    place in the children queue as it is (the rest may be stale)."""
    if {"case", *CHILD_PARTS} <= set(parts):
        case_refresh(case_id=case_id, client=client)
        return
    if "case" in parts:
        try:
            cases_upsert_page(remotes=[client.get_case(case_id)])
        except NotFound:
            Case.objects.filter(id=case_id, gone_at__isnull=True).update(gone_at=timezone.now())
            return
    children = [part for part in CHILD_PARTS if part in parts]
    if children:
        fetched = _children_fetch(client, case_id, children)
        with transaction.atomic():
            case_children_store(case_id=case_id, fetched=fetched)


class ChildrenConflict(Exception):
    """Debitura lists a child of this case that the local copy holds on another case.

    Ids have repeated across cases (an emulator restarted with the same seed); a chat message or
    a file is never moved from one case to another on the strength of its id alone.
    """


def _refuse_to_move(case: Case, chats: Sequence[types.Chat], files: Sequence[types.CaseFile]) -> None:
    for model, label, ids in (
        (ChatMessage, "chat message", [chat.id for chat in chats]),
        (CaseFile, "file", [f.id for f in files]),
    ):
        elsewhere = (
            model.objects.filter(id__in=ids).exclude(case_id=case.id).values_list("id", "case__reference")
        )
        for child_id, reference in elsewhere[:1]:
            raise ChildrenConflict(
                f"Debitura lists {label} {child_id} on this case, but it belongs to case {reference} here; "
                "it was not moved."
            )


CHILD_REQUESTS_PER_CASE = 6
# A case whose children cannot be stored waits 1, 2, 4 ... minutes, at most an hour, before the
# queue tries it again; the cases behind it go on.
CHILDREN_BACKOFF_BASE = timedelta(minutes=1)
CHILDREN_BACKOFF_CAP = timedelta(hours=1)


def children_backoff(failures: int) -> timedelta:
    """How long the queue passes over a case after `failures` failed refreshes in a row."""
    return min(CHILDREN_BACKOFF_CAP, CHILDREN_BACKOFF_BASE * 2 ** min(max(0, failures - 1), 20))


def case_children_refresh_isolated(*, case: Case, client: DebituraClient) -> bool:
    """case_children_refresh in a savepoint of its own: True when it worked.

    A failure that belongs to this case (Debitura refusing it, an answer that cannot be read or
    stored) is rolled back, recorded on the case (`children_error`, shown to admins) and backed
    off, so one bad case never holds up the rest. A case Debitura no longer shows is marked
    gone. Transient errors concern every case and are raised.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            case_children_refresh(case=case, client=client)
    except NotFound:
        Case.objects.filter(id=case.id).update(gone_at=now, children_stale=False)
        return False
    except TransientError:
        raise
    except Exception as exc:
        failures = min(case.children_failures + 1, 1000)
        retry_at = now + children_backoff(failures)
        message = (
            str(exc) if isinstance(exc, DebituraError | ChildrenConflict) else f"{type(exc).__name__}: {exc}"
        )
        Case.objects.filter(id=case.id).update(
            children_error=message[:2000], children_failures=failures, children_retry_at=retry_at
        )
        log.warning(
            "children of case %s failed (%d in a row, next try after %s): %s",
            case.id,
            failures,
            retry_at.isoformat(timespec="seconds"),
            message,
            exc_info=not isinstance(exc, DebituraError | ChildrenConflict),
        )
        return False
    return True


def _children_queue(now: datetime) -> Any:
    """Stale cases in queue order, without those backed off after a failure."""
    return (
        Case.objects.filter(children_stale=True, gone_at__isnull=True)
        .filter(Q(children_retry_at__isnull=True) | Q(children_retry_at__lte=now))
        .order_by("-children_priority", "-remote_updated_at")
    )


# The beat queues a children batch every 20 s (partnerportal.settings); a batch works this long at
# most, so batches follow one another instead of piling up.
CHILDREN_BEAT_SECONDS = 20.0
CHILDREN_BATCH_SECONDS = 18.0


def agents_waiting(*, now: datetime | None = None) -> bool:
    """Whether an agent's action is on its way to Debitura (due, or being sent)."""
    now = now or timezone.now()
    return OutboxAction.objects.filter(
        Q(state=OutboxAction.State.SENDING) | Q(state=OutboxAction.State.PENDING, next_attempt_at__lte=now)
    ).exists()


def cases_children_refresh_batch(
    *, client: DebituraClient | None = None, limit: int | None = None, seconds: float = CHILDREN_BATCH_SECONDS
) -> int:
    """Refresh the children of the next stale cases in queue order, for `seconds` at most (and
    `limit` cases, when given); returns how many were tried.

    Without a client each case goes through the background client, chosen case by case: while an
    agent's action is waiting it keeps to DEBITURA_CHILDREN_SHARE of the rate limit, otherwise it
    may use DEBITURA_CHILDREN_IDLE_SHARE, the part agents leave unused. Both count in one bucket,
    so when an agent acts, the queue waits until its own share has room again.
    """
    deadline = time.monotonic() + seconds
    done = 0
    while limit is None or done < limit:
        chunk = 20 if limit is None else min(20, limit - done)
        ids = list(_children_queue(timezone.now()).values_list("id", flat=True)[:chunk])
        if not ids:
            break
        for case_id in ids:
            if done and time.monotonic() > deadline:
                return done
            spare = not agents_waiting()
            # No more than the share allows in the batch's time: a batch never sleeps long in
            # the rate limiter, holding a worker that an agent's action may need.
            if client is None and (done + 1) * CHILD_REQUESTS_PER_CASE > _children_budget(spare, seconds):
                return done
            case = Case.objects.filter(id=case_id, children_stale=True).first()
            if case is None:  # another worker got there first
                continue
            case_children_refresh_isolated(case=case, client=client or children_client(spare=spare))
            done += 1
    return done


def cases_children_queue_run(*, seconds: float = CHILDREN_BATCH_SECONDS) -> int:
    """The beat's children task: a batch, then the progress the pages show, measured again."""
    done = cases_children_refresh_batch(seconds=seconds)
    if (
        done
        or ChildrenProgress.objects.filter(id=1, done__lt=F("total")).exists()
        or not ChildrenProgress.objects.exists()
    ):
        children_progress_measure()
    return done


def _children_budget(spare: bool, seconds: float) -> float:
    """Requests the children queue may make in `seconds` at its share of the per-minute limit."""
    from debitura.throttle import DEBITURA_WINDOWS

    share = settings.DEBITURA_CHILDREN_IDLE_SHARE if spare else settings.DEBITURA_CHILDREN_SHARE
    return DEBITURA_WINDOWS[0].limit * share * seconds / DEBITURA_WINDOWS[0].seconds


def case_children_request(*, case: Case, max_age: timedelta = timedelta(minutes=3)) -> bool:
    """An agent opened the case: jump the queue when its children are older than `max_age`.

    Returns True when a refresh was queued (the page then polls for it).
    """
    fresh = case.children_synced_at is not None and case.children_synced_at > timezone.now() - max_age
    if fresh and not case.children_stale:
        return False
    updated = (
        Case.objects.filter(id=case.id)
        .filter(~Q(children_priority=ChildPriority.OPENED_BY_AGENT) | Q(children_stale=False))
        .update(children_stale=True, children_priority=ChildPriority.OPENED_BY_AGENT)
    )
    if updated:
        from cases.tasks import refresh_case_children

        transaction.on_commit(lambda: refresh_case_children.delay(str(case.id)))
    return True


_children_clients: dict[tuple[int, bool], DebituraClient] = {}


def children_client(*, spare: bool = False) -> DebituraClient:
    """A client whose requests count against a capped share of the key's rate limit: the
    children share, or with `spare` the larger one for when no agent's action is waiting."""
    import os

    from debitura.client import client_from_settings

    slot = (os.getpid(), spare)
    if slot not in _children_clients:
        idle, busy = settings.DEBITURA_CHILDREN_IDLE_SHARE, settings.DEBITURA_CHILDREN_SHARE
        # While agents act, the minute keeps to the children share; the hour and the day keep to
        # the idle one, or an import that ran at the idle share for an hour would stop for the next.
        share = idle if spare else (busy, idle, idle)
        _children_clients[slot] = client_from_settings(share=("children", share))
    return _children_clients[slot]


# --- The team -----------------------------------------------------------------------------------


def team_sync(*, client: DebituraClient | None = None) -> list[TeamMember]:
    """Mirror GET /users; a member nobody is linked to yet is linked to the portal user with their e-mail.

    A link an administrator set (Django admin, Team members) is never changed here.
    """
    client = client or get_client()
    remotes = client.list_users()
    users = {
        email.lower(): user_id
        for user_id, email in get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .values_list("id", "email")
    }
    now = timezone.now()
    members = []
    with transaction.atomic():
        linked = set(TeamMember.objects.filter(user__isnull=False).values_list("user_id", flat=True))
        for remote in remotes:
            email = _s(remote.email)
            member, _ = TeamMember.objects.update_or_create(
                id=remote.id,
                defaults={"name": _s(remote.name), "email": email, "active": True, "synced_at": now},
            )
            user_id = users.get(email.lower())
            if member.user_id is None and user_id is not None and user_id not in linked:
                # The same e-mail already mapped the member's cases to this user: none move.
                member.user_id = user_id
                member.save(update_fields=["user"])
                linked.add(user_id)
            members.append(member)
        TeamMember.objects.exclude(id__in=[r.id for r in remotes]).update(active=False)
    return members
