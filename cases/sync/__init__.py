"""Pulling cases from Debitura into the local copy: pages, single cases, children, the team.

The API is the truth: every write here overwrites local values with Debitura's. Pages are
upserted in bulk, one transaction per page; children (timeline, chat, payments, files,
exclusivity, validation) are refreshed per case, all at once, when the case's stamp moved.

- rows: where each value of a case row is found on a case Debitura sent (pure mapping)
- pages: the page pipeline (fetch ahead, write a few pages per transaction) and the upsert
- runs: the incremental and the full sync
- children: one case and its children (refresh, store, read back after an action)
- children_queue: stale children refreshed in priority order within their rate-limit share
- status: what the header badge shows
- team: Debitura's users mirrored as team members
- webhooks: Debitura's deliveries received, stored and acted on (a hint to re-fetch a case)

The names other modules use are re-exported here. Tests that replace a function replace it in
the module that calls it (cases.sync.pages._pages_write, cases.sync.children_queue.children_client).
"""

from __future__ import annotations

from cases.sync.children import (
    CHILD_PARTS,
    ChildrenConflict,
    case_children_refresh,
    case_children_store,
    case_read_back,
    case_refresh,
    chat_store,
)
from cases.sync.children_queue import (
    CHILD_REQUESTS_PER_CASE,
    CHILDREN_BACKOFF_BASE,
    CHILDREN_BACKOFF_CAP,
    CHILDREN_BATCH_SECONDS,
    CHILDREN_BEAT_SECONDS,
    CHILDREN_RATE_MINUTES,
    agents_waiting,
    case_children_refresh_isolated,
    case_children_request,
    cases_children_queue_run,
    cases_children_refresh_batch,
    children_backoff,
    children_client,
    children_progress_measure,
)
from cases.sync.pages import (
    PAGES_AHEAD,
    PAGES_LEAST,
    PAGES_PER_TRANSACTION,
    POSTGRESQL_WRITERS,
    PageResult,
    case_upsert,
    cases_upsert_page,
)
from cases.sync.rows import (
    CASE_COLUMNS,
    CASE_PATHS,
    OPEN_LIFECYCLES,
    WRITTEN_COLUMNS,
    ChildPriority,
    case_row,
    search_text,
)
from cases.sync.runs import (
    INCREMENTAL_OVERLAP,
    NEWEST_FIRST,
    PAGE_SIZE,
    PARTNER_STATUSES,
    cases_sync_full,
    cases_sync_incremental,
)
from cases.sync.status import CHILDREN_PROGRESS_CACHE_SECONDS, children_progress, sync_status
from cases.sync.team import team_sync
from debitura.client import get_client

__all__ = [
    "CASE_COLUMNS",
    "CASE_PATHS",
    "CHILDREN_BACKOFF_BASE",
    "CHILDREN_BACKOFF_CAP",
    "CHILDREN_BATCH_SECONDS",
    "CHILDREN_BEAT_SECONDS",
    "CHILDREN_PROGRESS_CACHE_SECONDS",
    "CHILDREN_RATE_MINUTES",
    "CHILD_PARTS",
    "CHILD_REQUESTS_PER_CASE",
    "INCREMENTAL_OVERLAP",
    "NEWEST_FIRST",
    "OPEN_LIFECYCLES",
    "PAGES_AHEAD",
    "PAGES_LEAST",
    "PAGES_PER_TRANSACTION",
    "PAGE_SIZE",
    "PARTNER_STATUSES",
    "POSTGRESQL_WRITERS",
    "WRITTEN_COLUMNS",
    "ChildPriority",
    "ChildrenConflict",
    "PageResult",
    "agents_waiting",
    "case_children_refresh",
    "case_children_refresh_isolated",
    "case_children_request",
    "case_children_store",
    "case_read_back",
    "case_refresh",
    "case_row",
    "case_upsert",
    "cases_children_queue_run",
    "cases_children_refresh_batch",
    "cases_sync_full",
    "cases_sync_incremental",
    "cases_upsert_page",
    "chat_store",
    "children_backoff",
    "children_client",
    "children_progress",
    "children_progress_measure",
    "get_client",
    "search_text",
    "sync_status",
    "team_sync",
]
