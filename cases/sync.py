"""Pulling cases from Debitura into the local copy: pages, single cases, children, the team.

The API is the truth: every write here overwrites local values with Debitura's. Pages are
upserted in bulk, one transaction per page; children (timeline, chat, payments, files,
exclusivity, validation) are refreshed per case, all at once, when the case's stamp moved.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from cases.bulk import upsert_plan
from cases.models import (
    Case,
    CaseFile,
    ChatMessage,
    ExclusivityExtension,
    LifecycleChoices,
    SyncRun,
    TeamMember,
    TimelineItem,
    ValidationItem,
)
from debitura import types
from debitura.client import DebituraClient, get_client
from debitura.enums import Lifecycle
from debitura.errors import DebituraError, NotFound

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


def case_fields(remote: types.Case) -> dict[str, Any]:
    """The local column values for a case as Debitura sent it (`raw` as JSON text)."""
    debtor = remote.debtor or types.Debtor()
    creditor = remote.creditor or types.Creditor()
    division = creditor.division or types.CreditorDivision()
    outstanding = remote.allocation_outstanding
    assignee = remote.assigned_user or types.AssignedUser()
    fields: dict[str, Any] = {
        "reference": _s(remote.reference),
        "creditor_reference": _s(remote.creditor_reference),
        "is_test_case": remote.is_test_case,
        "lifecycle": (remote.lifecycle or Lifecycle.UNKNOWN).value,
        "close_code": remote.close_code.value if remote.close_code else "",
        "engagement_phase": _s(remote.current_engagement_phase),
        "claim_type": _s(remote.claim_type),
        "claim_description": _s(remote.claim_description),
        "creditor_comments": _s(remote.creditor_comments),
        "dispute_status": _s(remote.dispute_status),
        "needs_info": remote.needs_info,
        "solution_url": _s(remote.solution_url)[:500],
        "currency": _s(remote.currency).upper()[:3],
        "gross_amount": remote.gross_amount,
        "interest_fees": remote.interest_fees,
        "reminder_fees": remote.reminder_fees,
        "collection_fees": remote.collection_fees,
        "total_added_fees": remote.total_added_fees,
        "remainder": remote.remainder,
        "outstanding_principal": outstanding.principal if outstanding else None,
        "outstanding_interest": outstanding.interest if outstanding else None,
        "outstanding_reminder_fees": outstanding.reminder_fees if outstanding else None,
        "outstanding_collection_fees": outstanding.collection_fees if outstanding else None,
        "success_fee": remote.pre_legal_success_fee,
        "age_uplift_points": remote.blended_age_uplift_points,
        "date_created": remote.date_created,
        "claim_date": remote.date,
        "due_date": remote.due_date,
        "date_finished": remote.date_finished,
        "date_collection_started": remote.date_collection_started,
        "exclusive_period_end": remote.exclusive_period_end_date,
        "debtor_type": _s(debtor.type),
        "debtor_name": _s(debtor.name),
        "debtor_contact_person": _s(debtor.contact_person),
        "debtor_registration_number": _s(debtor.company_registration_number),
        "debtor_address": _s(debtor.address),
        "debtor_zip_code": _s(debtor.zip_code),
        "debtor_city": _s(debtor.city),
        "debtor_state": _s(debtor.state),
        "debtor_country_code": _s(debtor.country_alpha2).upper()[:2],
        "debtor_country": _s(debtor.country),
        "debtor_email": _s(debtor.email),
        "debtor_phone": _s(debtor.phone),
        "creditor_id": creditor.id,
        "creditor_name": _s(creditor.company_name),
        "creditor_registration_number": _s(creditor.company_registration_number),
        "creditor_email": _s(creditor.office_email),
        "creditor_phone": _s(creditor.office_phone),
        "creditor_address": _s(creditor.address),
        "creditor_zip_code": _s(creditor.zip_code),
        "creditor_city": _s(creditor.city),
        "creditor_state": _s(creditor.state),
        "creditor_country": _s(creditor.country),
        "creditor_division_id": remote.creditor_division_id or division.id,
        "creditor_division_name": _s(division.name),
        "debitura_assignee_email": _s(assignee.email),
        "debitura_assignee_name": _s(assignee.name),
        "raw": remote.raw_json,
        "remote_updated_at": remote.date_updated or remote.date_created,
        "gone_at": None,
    }
    fields["search_text"] = search_text(fields)
    return fields


def search_text(fields: dict[str, Any]) -> str:
    """The lower-cased haystack the case search box looks in."""
    parts = [
        fields.get("reference"),
        fields.get("partner_reference"),
        fields.get("creditor_reference"),
        fields.get("debtor_name"),
        fields.get("debtor_contact_person"),
        fields.get("debtor_email"),
        fields.get("debtor_phone"),
        # Phone numbers are typed with and without spaces and dashes; keep both forms.
        "".join(ch for ch in (fields.get("debtor_phone") or "") if ch.isdigit() or ch == "+"),
        fields.get("creditor_name"),
        fields.get("creditor_email"),
    ]
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


def _assignee_by_email() -> dict[str, Any]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="").only("id", "email")
    return {user.email.lower(): user for user in users}


class _Assignees:
    """Portal user ids by email, read on first need and then kept for one sync run."""

    def __init__(self) -> None:
        self._ids: dict[str, int] | None = None

    def id_for(self, email: str) -> int | None:
        if self._ids is None:
            self._ids = {email: user.id for email, user in _assignee_by_email().items()}
        return self._ids.get(email.lower())


def case_row(remote: types.Case) -> dict[str, Any]:
    """case_fields plus the id and the hash of `raw`, the JSON text Debitura sent.

    Pure computation, so the page prefetch thread does it while the last page is being written.
    """
    row = case_fields(remote)
    row["raw_hash"] = hashlib.blake2b(row["raw"].encode(), digest_size=16).hexdigest()
    row["id"] = str(remote.id)
    return row


def cases_upsert_page(*, remotes: Sequence[types.Case], now: datetime | None = None) -> PageResult:
    """Write one page of cases in one transaction; children of changed cases are marked stale."""
    return _rows_write(rows=[case_row(remote) for remote in remotes], now=now, assignees=_Assignees())


def _rows_write(
    *, rows: Sequence[dict[str, Any]], assignees: _Assignees, now: datetime | None = None
) -> PageResult:
    """cases_upsert_page for rows made by case_row: one read, one upsert, one stamp per page."""
    now = now or timezone.now()
    result = PageResult()
    if not rows:
        return result
    by_id = {row["id"]: row for row in rows}
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
        to_write: list[dict[str, Any]] = []
        for case_id, row in by_id.items():
            current = existing.get(case_id)
            if current is None:
                result.created.append(case_id)
            elif current[0] == row["raw_hash"] and current[1] is None:
                result.unchanged.append(case_id)
                continue
            else:
                result.updated.append(case_id)
                if current[2]:
                    row["search_text"] = search_text({**row, "partner_reference": current[2]})
            # The portal may reassign locally (Debitura has no call for it); Debitura's assignee
            # wins only when it is new or changed at Debitura.
            if current is None or current[3] != row["debitura_assignee_email"]:
                row["assigned_to_id"] = assignees.id_for(row["debitura_assignee_email"])
            else:
                row["assigned_to_id"] = current[4]
            row["synced_at"] = now
            row["children_stale"] = True
            row["children_priority"] = (
                ChildPriority.OPEN if row["lifecycle"] in OPEN_LIFECYCLES else ChildPriority.CLOSED
            )
            to_write.append(row)
        if to_write:
            # Columns the rows carry are Debitura's and overwritten; the others are the portal's
            # own (partner_reference, first_opened_at, exclusivity_* ...): defaulted on insert,
            # never touched on update.
            upsert_plan(Case, columns=to_write[0].keys()).execute(
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

    Also compresses the page's `raw` JSON with lz4 where the server has it: pglz spent about
    a second of server CPU per 10,000 cases (each 2.6 kB, above the 2 kB TOAST threshold).
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


def _run_finish(run: SyncRun, error: BaseException | None = None) -> SyncRun:
    run.finished_at = timezone.now()
    if error is not None:
        run.error = str(error) if isinstance(error, DebituraError) else f"{type(error).__name__}: {error}"
    run.save()
    return run


def _tally(run: SyncRun, result: PageResult) -> None:
    run.pages += 1
    run.requests += 1
    run.created += len(result.created)
    run.updated += len(result.updated)
    run.unchanged += len(result.unchanged)


def _pages(
    client: DebituraClient,
    filters: types.CaseFilters,
    page_size: int,
    wanted: Callable[[types.CasePage], bool] = lambda page: True,
) -> Iterator[tuple[types.CasePage, list[dict[str, Any]]]]:
    """Pages of GET /cases with their case_row rows, fetching and preparing the next page while
    the caller writes the current one.

    `wanted(page)` decides, as soon as a page arrives, whether the walk goes on; a page that
    would not be read is never requested, so prefetching costs no extra request.
    """

    def fetch(number: int) -> tuple[types.CasePage, list[dict[str, Any]]]:
        page = client.list_cases(filters, page=number, page_size=page_size)
        # Turning cases into rows is pure Python, so it runs here, beside the database's turn.
        return page, [case_row(remote) for remote in page.cases]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="case-pages") as pool:
        number = 1
        future: Future[tuple[types.CasePage, list[dict[str, Any]]]] | None = pool.submit(fetch, 1)
        while future is not None:
            page, rows = future.result()
            future = None
            if page.cases and page.page.has_next and wanted(page):
                number += 1
                future = pool.submit(fetch, number)
            yield page, rows


def cases_sync_incremental(*, client: DebituraClient | None = None, page_size: int = PAGE_SIZE) -> SyncRun:
    """Pull what changed since the newest stamp we hold (everything on the first run).

    Pages come newest first (DateUpdated:desc); the walk stops at the first page that reaches
    back past the high-water mark less an overlap, so with nothing changed it costs one request.
    """
    client = client or get_client()
    mark = _high_water_mark()
    stop_before = mark - INCREMENTAL_OVERLAP if mark else None

    def newer_than_mark(page: types.CasePage) -> bool:
        oldest = page.cases[-1].date_updated
        return stop_before is None or oldest is None or oldest >= stop_before

    run = SyncRun.objects.create(kind=SyncRun.Kind.INCREMENTAL, high_water_mark=mark)
    assignees = _Assignees()
    try:
        for _page, rows in _pages(client, NEWEST_FIRST, page_size, newer_than_mark):
            _tally(run, _rows_write(rows=rows, assignees=assignees))
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
            for _page, rows in _pages(client, filters, page_size):
                _tally(run, _rows_write(rows=rows, assignees=assignees, now=run.started_at))
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


def sync_status() -> dict[str, Any]:
    """What the header badge shows: the last successful sync, a running one, the last failure."""
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


def case_children_refresh(*, case: Case, client: DebituraClient | None = None) -> None:
    """Replace a case's timeline, chat, payments, files, exclusivity chain and validation items."""
    from payments.sync import payments_replace

    client = client or get_client()
    case_id = str(case.id)
    timeline = client.get_timeline(case_id)
    chats = client.list_chats(case_id)
    payments = client.list_payments(case_id)
    files = client.list_files(case_id)
    exclusivity = client.get_exclusive_period(case_id)
    validation = client.get_case_validation(case_id)
    now = timezone.now()
    with transaction.atomic():
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
        ChatMessage.objects.filter(case=case).exclude(id__in=[chat.id for chat in chats]).delete()
        for chat in chats:
            user = chat.user
            ChatMessage.objects.update_or_create(
                id=chat.id,
                defaults={
                    "case": case,
                    "date_created": chat.date_created,
                    "role": int(chat.role or 0),
                    "role_label": _s(chat.role_label),
                    "message": _s(chat.message),
                    "is_seen": chat.is_seen,
                    "author_email": _s(user.email if user else None),
                    "author_name": " ".join(filter(None, [user.first_name, user.last_name])) if user else "",
                },
            )
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
        ExclusivityExtension.objects.filter(case=case).delete()
        ValidationItem.objects.filter(case=case).delete()
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
        ValidationItem.objects.bulk_create(
            ValidationItem(
                case=case, resolution_area=_s(item.resolution_area), description=_s(item.description)
            )
            for item in validation.items
        )
        payments_replace(case=case, remotes=payments, now=now)
        Case.objects.filter(id=case.id).update(
            children_synced_at=now,
            children_stale=False,
            children_priority=ChildPriority.OPEN
            if case.lifecycle in OPEN_LIFECYCLES
            else ChildPriority.CLOSED,
            engagement_phase=_s(timeline.current_engagement_phase) or case.engagement_phase,
            exclusivity_start=exclusivity.engagement_start_date if exclusivity else None,
            exclusivity_status=_s(exclusivity.status) if exclusivity else "",
            exclusive_period_end=(exclusivity.current_end_date if exclusivity else None)
            or case.exclusive_period_end,
            creditor_responded_at=validation.creditor_responded_at,
        )


CHILD_REQUESTS_PER_CASE = 6


def cases_children_refresh_batch(*, client: DebituraClient | None = None, limit: int = 20) -> int:
    """Refresh the children of the next stale cases in queue order; returns how many were done.

    The client passed in (or the background client) spends only a share of the rate limit.
    """
    client = client or children_client()
    ids = list(
        Case.objects.filter(children_stale=True, gone_at__isnull=True)
        .order_by("-children_priority", "-remote_updated_at")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for case_id in ids:
        case = Case.objects.filter(id=case_id, children_stale=True).first()
        if case is None:  # another worker got there first
            continue
        try:
            case_children_refresh(case=case, client=client)
        except NotFound:
            Case.objects.filter(id=case_id).update(gone_at=timezone.now(), children_stale=False)
        done += 1
    return done


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


_children_client: tuple[int, DebituraClient] | None = None


def children_client() -> DebituraClient:
    """A client whose requests count against a capped share of the key's rate limit."""
    import os

    from debitura.client import client_from_settings

    global _children_client
    if _children_client is None or _children_client[0] != os.getpid():
        _children_client = (
            os.getpid(),
            client_from_settings(share=("children", settings.DEBITURA_CHILDREN_SHARE)),
        )
    return _children_client[1]


# --- The team -----------------------------------------------------------------------------------


def team_sync(*, client: DebituraClient | None = None) -> list[TeamMember]:
    """Mirror GET /users and link members to portal users by email (case-insensitive)."""
    client = client or get_client()
    remotes = client.list_users()
    users = _assignee_by_email()
    now = timezone.now()
    members = []
    with transaction.atomic():
        for remote in remotes:
            email = _s(remote.email)
            member, _ = TeamMember.objects.update_or_create(
                id=remote.id,
                defaults={"name": _s(remote.name), "email": email, "active": True, "synced_at": now},
            )
            user = users.get(email.lower())
            if (
                user is not None
                and member.user_id != user.id
                and not TeamMember.objects.filter(user=user).exclude(id=member.id).exists()
            ):
                member.user = user
                member.save(update_fields=["user"])
            members.append(member)
        TeamMember.objects.exclude(id__in=[r.id for r in remotes]).update(active=False)
    return members
