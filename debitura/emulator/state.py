"""The emulator's in-memory state: storage, look-ups, listing, change stamps and webhook events."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from . import dto
from .clock import Clock
from .errors import ApiError, not_found
from .model import CLOSE_CODES, LIFECYCLES, Case, CaseFile, Chat, Note, Partner, Payment, User
from .seed import World

# Sort keys for GET /cases. Nullable ones sort None first ascending (as SQL Server does).
_LIFECYCLE_ORDER = {name: index for index, name in enumerate(LIFECYCLES)}
_CLOSE_CODE_ORDER = {name: index for index, name in enumerate(CLOSE_CODES)}
SORT_FIELDS: dict[str, Callable[[Case], Any]] = {
    "datecreated": attrgetter("date_created"),
    "dateupdated": attrgetter("date_updated"),
    "datefinished": lambda c: (c.date_finished is not None, c.date_finished),
    "datecollectionstarted": lambda c: (c.date_collection_started is not None, c.date_collection_started),
    "duedate": attrgetter("due_date"),
    "date": attrgetter("date"),
    "grossamount": attrgetter("gross_amount"),
    "remainder": attrgetter("remainder"),
    "interestfees": attrgetter("interest_fees"),
    "collectionfees": attrgetter("collection_fees"),
    "reminderfees": attrgetter("reminder_fees"),
    "lifecycle": lambda c: _LIFECYCLE_ORDER[c.lifecycle],
    "closecode": lambda c: (c.close_code is not None, _CLOSE_CODE_ORDER.get(c.close_code or "", -1)),
}
DEFAULT_SORT = [("datecreated", True)]


@dataclass
class Webhook:
    """A webhook subscription; the secret is shown once, on creation or rotation."""

    id: str
    url: str
    events: list[str]
    is_active: bool
    is_test_mode: bool
    secret: str
    created: datetime
    updated: datetime
    disabled_reason: str | None = None
    failures: int = 0


@dataclass
class WebhookEvent:
    """One event recorded for one subscription (GET /webhooks/events)."""

    id: str
    subscription_id: str
    case_id: str | None
    event_type: str
    payload: str
    created_at: datetime
    delivered_at: datetime | None = None
    attempt_count: int = 0
    last_response_code: int | None = None
    last_error: str | None = None


@dataclass
class Delivery:
    """A webhook POST waiting to be sent: where, what and how it is signed."""

    event_id: str
    subscription_id: str
    url: str
    event_type: str
    body: bytes
    secret: str
    replay: bool = False


@dataclass
class CaseQuery:
    """The filters, sort and page of GET /cases, already validated."""

    page: int = 1
    page_size: int = 10
    ids: set[str] | None = None
    debtor_ids: set[str] | None = None
    division_ids: set[str] | None = None
    lifecycles: set[str] | None = None
    include_test_cases: bool = False
    sort: list[tuple[str, bool]] = field(default_factory=lambda: list(DEFAULT_SORT))

    def selection(self) -> tuple[Any, ...]:
        """Everything but the page: two queries with the same selection share one ordering."""

        def frozen(values: set[str] | None) -> frozenset[str] | None:
            return None if values is None else frozenset(values)

        return (
            self.include_test_cases,
            frozen(self.ids),
            frozen(self.debtor_ids),
            frozen(self.division_ids),
            frozen(self.lifecycles),
            tuple(self.sort),
        )


class State:
    """All cases and related records, guarded by one lock (the HTTP server is threaded)."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.seeder = world.seeder
        self.ids = world.seeder.ids
        self.partner: Partner = world.partner
        self.users: dict[str, User] = {u.id: u for u in world.users}
        self.creditors = {c.id: c for c in world.creditors}
        self.cases: dict[str, Case] = {}
        self.by_reference: dict[str, Case] = {}
        self.by_partner_reference: dict[str, Case] = {}
        self.payments: dict[str, Payment] = {}
        self.chats: dict[str, Chat] = {}
        self.files: dict[str, CaseFile] = {}
        self.notes: dict[str, Note] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.events: dict[str, WebhookEvent] = {}
        self.outbox: list[Delivery] = []
        # Cases the partner submitted (POST /managed-cases); test cases are also in `cases`,
        # routed to the partner itself. Ids of hard-deleted test cases answer DELETE with 204 again.
        self.managed: dict[str, Case] = {}
        self.deleted_test_ids: set[str] = set()
        self.jobs: dict[str, Any] = {}
        # Bumped on every change; an ordering computed at the same version is still valid, so a
        # sync paging through 10,000 cases sorts them once, not once per page.
        self.version = 0
        self._orderings: dict[tuple[Any, ...], tuple[int, list[Case]]] = {}
        for case in world.cases:
            self.add_case(case)

    # -- storage -----------------------------------------------------------------------------
    def add_case(self, case: Case) -> None:
        self.version += 1
        self.cases[case.id] = case
        self.by_reference[case.reference.upper()] = case
        if case.partner_reference:
            self.by_partner_reference[case.partner_reference] = case
        self.payments.update((p.id, p) for p in case.payments)
        self.chats.update((c.id, c) for c in case.chats)
        self.files.update((f.id, f) for f in case.files)

    def remove_case(self, case: Case) -> None:
        """Hard-delete a case and everything hanging off it, webhook delivery records included."""
        self.version += 1
        self.cases.pop(case.id, None)
        self.managed.pop(case.id, None)
        if self.by_reference.get(case.reference.upper()) is case:
            del self.by_reference[case.reference.upper()]
        if case.partner_reference and self.by_partner_reference.get(case.partner_reference) is case:
            del self.by_partner_reference[case.partner_reference]
        for table, items in (
            (self.payments, case.payments),
            (self.chats, case.chats),
            (self.files, case.files),
            (self.notes, case.notes),
        ):
            for item in items:
                table.pop(item.id, None)
        for event_id in [e.id for e in self.events.values() if e.case_id == case.id]:
            del self.events[event_id]
        if case.is_test:
            self.deleted_test_ids.add(case.id)

    def touch(self, case: Case) -> datetime:
        """Record that a case changed: a fresh dateUpdated and a stale serialised copy."""
        case.date_updated = self.clock.tick()
        case.cached_json = None
        self.version += 1
        return case.date_updated

    # -- look-ups ----------------------------------------------------------------------------
    def case(self, case_id: str) -> Case:
        found = self.cases.get(case_id.lower())
        if found is None:
            raise not_found("Case not found or not assigned to you as collection partner.")
        return found

    def active_user(self, *, email: str | None, user_id: str | None, role: str) -> User:
        """The team member named by email (preferred) or id; 400 unless active in the team."""
        if email:
            found = next((u for u in self.users.values() if u.email.lower() == email.lower()), None)
        else:
            found = self.users.get((user_id or "").lower())
        if found is None or not found.active:
            who = email or user_id
            raise ApiError(400, f"{role} '{who}' is not an active member of your team.", "InvalidUser")
        return found

    def case_json(self, case: Case) -> bytes:
        if case.cached_json is None:
            case.cached_json = json.dumps(
                dto.case(case, self.partner, self.users), ensure_ascii=False
            ).encode()
        return case.cached_json

    def list_cases(self, query: CaseQuery) -> tuple[int, list[Case]]:
        """(total matching, the requested page) for GET /cases."""
        key = query.selection()
        cached = self._orderings.get(key)
        if cached is None or cached[0] != self.version:
            if len(self._orderings) > 32:
                self._orderings.clear()
            cached = self._orderings[key] = (self.version, self._ordered(query))
        ordered = cached[1]
        start = (query.page - 1) * query.page_size
        return len(ordered), ordered[start : start + query.page_size]

    def _ordered(self, query: CaseQuery) -> list[Case]:
        return self.ordered(query, self.cases.values())

    def ordered(self, query: CaseQuery, cases: Iterable[Case]) -> list[Case]:
        """`cases` matching the query's filters, in its sort order (all pages)."""
        selected = cases
        if not query.include_test_cases:
            selected = (c for c in selected if not c.is_test)
        if query.ids is not None:
            selected = (c for c in selected if c.id in query.ids)
        if query.debtor_ids is not None:
            selected = (c for c in selected if c.debtor.id in query.debtor_ids)
        if query.division_ids is not None:
            selected = (c for c in selected if c.division is not None and c.division.id in query.division_ids)
        if query.lifecycles is not None:
            selected = (c for c in selected if c.lifecycle in query.lifecycles)
        matching = list(selected)
        # Stable sorts applied last key first give a multi-key sort with mixed directions.
        for name, descending in reversed(query.sort):
            matching.sort(key=SORT_FIELDS[name], reverse=descending)
        return matching

    # -- webhooks ----------------------------------------------------------------------------
    def new_secret(self) -> str:
        return base64.b64encode(self.ids.rng.getrandbits(256).to_bytes(32, "big")).decode()

    def fire(self, event_type: str, case: Case) -> None:
        """Record `event_type` for every active subscription that wants it and queue deliveries."""
        self.fire_to(
            event_type, case, [h for h in self.webhooks.values() if h.is_active and event_type in h.events]
        )

    def fire_to(self, event_type: str, case: Case, hooks: list[Webhook]) -> int:
        """Record `event_type` for each of `hooks` and queue deliveries; returns how many."""
        for hook in hooks:
            event_id = self.ids.uuid()
            now = self.clock.now()
            payload = json.dumps(
                {
                    "id": event_id,
                    "specVersion": "1.0",
                    "event": event_type,
                    "timestamp": dto.stamp(now),
                    # Events of test cases say so (the advance and fire operations' notes).
                    "data": {"caseId": case.id, "reference": case.reference}
                    | ({"classification": "test"} if case.is_test else {}),
                },
                separators=(",", ":"),
            )
            self.events[event_id] = WebhookEvent(event_id, hook.id, case.id, event_type, payload, now)
            self.outbox.append(
                Delivery(event_id, hook.id, hook.url, event_type, payload.encode(), hook.secret)
            )
        return len(hooks)

    def take_outbox(self) -> list[Delivery]:
        with self.lock:
            pending, self.outbox = self.outbox, []
            return pending

    def record_attempt(self, delivery: Delivery, status: int | None, error: str | None) -> None:
        """Note a delivery attempt; a subscription disables itself on 410 or 8 failures in a row."""
        with self.lock:
            event = self.events.get(delivery.event_id)
            hook = self.webhooks.get(delivery.subscription_id)
            if event is None:
                return
            event.attempt_count += 1
            event.last_response_code = status
            ok = status is not None and 200 <= status < 300
            event.last_error = None if ok else (error or f"HTTP {status}")
            if ok:
                event.delivered_at = self.clock.now()
            if hook is None:
                return
            hook.failures = 0 if ok else hook.failures + 1
            if status == 410 or hook.failures >= 8:
                hook.is_active = False
                hook.disabled_reason = (
                    "Endpoint answered 410 Gone." if status == 410 else "Too many failed deliveries."
                )
