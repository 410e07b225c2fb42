"""The case list's state: tabs, filters, search, sort and page size, all read from the URL.

Everything the list shows is decided here from the query string, so a URL is the whole state:
shareable, bookmarkable (saved views store it) and replayed by the back button. The filtering
and the tab counts are here; the search box is cases/search.py, the keyset pages (sort columns,
cursors) cases/keyset.py. Their names are imported here too (the `noqa: F401` lines), so
`from cases.filters import ...` keeps working for the list's callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.lookups import Exact, GreaterThanOrEqual, IsNull, LessThan, LessThanOrEqual
from django.utils import timezone

from accounts.roles import roles_with
from cases.counts import case_counts_and_tests
from cases.keyset import (  # noqa: F401
    MAX_ASSIGNEE_SEGMENTS,
    SORTS,
    CasePage,
    cases_page,
    cursor_decode,
    cursor_encode,
)
from cases.models import Case, CloseCodeChoices, LifecycleChoices
from cases.planner import Unindexed, unindexed  # noqa: F401
from cases.search import TRIGRAM, case_jump_target, cases_search  # noqa: F401

L = LifecycleChoices

# Tab key -> (label, lifecycle or None for all). "mine" filters on the assignee instead.
TABS: dict[str, tuple[str, str | None]] = {
    "new": ("New assignments", L.PENDING_VERIFICATION),
    "active": ("Active", L.ACTIVE),
    "paused": ("Paused", L.PAUSED),
    "details": ("Needs details", L.NEEDS_ADDITIONAL_DETAILS),
    "closed": ("Closed", L.CLOSED),
    "all": ("All", None),
}
MINE = "mine"
TEST_CASES = "test-cases"  # not a tab: a key of tab_counts
DEFAULT_SORT = "-updated"
PAGE_SIZES = (25, 50, 100)
# The match count stops here: counting every row of a broad filter at 100,000 cases is the one
# cost that grows with the table, and "1,000+" tells an agent as much as the exact figure.
COUNT_CAP = 1000

PHASES = ("Pre-legal", "Legal", "Enforcement")
DEBTOR_TYPES = ("Company", "Person")
YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


USERS_SECONDS = 60


def assignable_users() -> list[tuple[str, str]]:
    """(id, name) of active users who may work cases: the assignee filter's and reassign's choices.

    Kept a minute in the cache: the list page renders it on every full load.
    """
    users = cache.get("cases:assignable-users")
    if users is None:
        roles = roles_with("accounts.work_cases")
        users = [
            (str(user.pk), user.get_full_name() or user.get_username())
            for user in get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(groups__name__in=roles) | Q(is_superuser=True))
            .distinct()
            .order_by("first_name", "last_name", "username")
            .only("id", "username", "first_name", "last_name")
        ]
        cache.set("cases:assignable-users", users, USERS_SECONDS)
    return list(users)


# The days a date filter takes: any case's, and far enough from year 1 and year 9999 that a day's
# bounds in any time zone are still dates (9999-12-31 plus the day the "to" filter adds is not).
FILTER_DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))


def filter_date_in_range(day: date) -> None:
    """Refuse a filter date outside FILTER_DATE_RANGE."""
    first, last = FILTER_DATE_RANGE
    if not first <= day <= last:
        raise ValidationError(f"Enter a date between {first} and {last}.", code="out_of_range")


def filter_date_field(**kwargs: Any) -> forms.DateField:
    """An optional date filter, refused outside FILTER_DATE_RANGE (shared by the case list and the ledger)."""
    return forms.DateField(required=False, validators=[filter_date_in_range], **kwargs)


class CaseFilterForm(forms.Form):
    """The list's query string; invalid values are reported next to their field and ignored."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    tab = forms.ChoiceField(
        required=False, choices=[(k, v[0]) for k, v in TABS.items()] + [(MINE, "My cases")]
    )
    lifecycle = forms.ChoiceField(required=False, choices=[("", "Any"), *L.choices])
    close_code = forms.ChoiceField(required=False, choices=[("", "Any"), *CloseCodeChoices.choices])
    phase = forms.ChoiceField(required=False, choices=[("", "Any")] + [(p, p) for p in PHASES])
    currency = forms.RegexField(required=False, regex=r"^[A-Za-z]{3}$", max_length=3)
    country = forms.RegexField(required=False, regex=r"^[A-Za-z]{2}$", max_length=2, label="Debtor country")
    debtor_type = forms.ChoiceField(required=False, choices=[("", "Any")] + [(t, t) for t in DEBTOR_TYPES])
    # Validated by shape, not against the user list, so partial (htmx) renders need no user query.
    # 18 digits at most: every id fits a 64-bit column, so no number reaches the database as too big.
    assigned = forms.RegexField(
        required=False, regex=r"^(none|[0-9]{1,18})$", label="Assigned to", widget=forms.Select
    )
    amount_min = forms.DecimalField(required=False, max_digits=20, decimal_places=4, label="Amount from")
    amount_max = forms.DecimalField(required=False, max_digits=20, decimal_places=4, label="Amount to")
    remainder_min = forms.DecimalField(
        required=False, max_digits=20, decimal_places=4, label="Remainder from"
    )
    remainder_max = forms.DecimalField(required=False, max_digits=20, decimal_places=4, label="Remainder to")
    created_from = filter_date_field(label="Created from")
    created_to = filter_date_field(label="Created to")
    updated_from = filter_date_field(label="Updated from")
    updated_to = filter_date_field(label="Updated to")
    due_from = filter_date_field(label="Due from")
    due_to = filter_date_field(label="Due to")
    needs_info = forms.ChoiceField(required=False, choices=YES_NO, label="Needs info")
    disputed = forms.ChoiceField(required=False, choices=YES_NO)
    test = forms.BooleanField(required=False, label="Include test cases")
    sort = forms.ChoiceField(required=False)
    size = forms.TypedChoiceField(required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES])
    after = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    # Fields that narrow the list beyond the tab; when none is set the tab count is the total.
    NARROWING = (
        "q", "lifecycle", "close_code", "phase", "currency", "country", "debtor_type", "assigned",
        "amount_min", "amount_max", "remainder_min", "remainder_max", "created_from", "created_to",
        "updated_from", "updated_to", "due_from", "due_to", "needs_info", "disputed",
    )  # fmt: skip

    def __init__(self, *args: Any, users: list[tuple[str, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        widget = self.fields["assigned"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "Anyone"), ("none", "Nobody"), *users]
        sort = self.fields["sort"]
        assert isinstance(sort, forms.ChoiceField)
        sort.choices = [(k, k) for key in SORTS for k in (key, f"-{key}")]

    def value(self, name: str) -> Any:
        """The cleaned value, or the field's empty value when it did not validate."""
        data = getattr(self, "cleaned_data", {})
        return data.get(name) if name not in self.errors else None

    @property
    def narrowed(self) -> bool:
        return any(self.value(name) not in (None, "", False) for name in self.NARROWING)


@dataclass(frozen=True)
class ListState:
    """The list as the URL asks for it, after validation."""

    tab: str
    sort: str
    size: int
    include_test: bool

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def list_state(form: CaseFilterForm) -> ListState:
    return ListState(
        tab=form.value("tab") or "all",
        sort=form.value("sort") or DEFAULT_SORT,
        size=form.value("size") or PAGE_SIZES[0],
        include_test=bool(form.value("test")),
    )


def cases_base(*, include_test: bool) -> QuerySet[Case]:
    """What the list can show at all: cases still visible at Debitura, test cases on request.

    Nearly every case is visible, so no index should answer `gone_at IS NULL`; without planner
    statistics (no ANALYZE since a sync) SQLite would read every case through case_gone and sort.
    """
    visible = IsNull(unindexed("gone_at"), True)
    cases = Case.objects.filter(visible)
    return cases if include_test else cases.filter(is_test_case=False)


def _day_start(day: date) -> datetime:
    # Dates typed by the agent are days in the agent's time zone, not in UTC.
    return timezone.make_aware(datetime.combine(day, time.min))


LOOKUPS: dict[str, Any] = {"exact": Exact, "gte": GreaterThanOrEqual, "lte": LessThanOrEqual, "lt": LessThan}


@dataclass(frozen=True)
class Density:
    """What the list knows about how many rows match, for SQLite's planner (see cases_filter)."""

    tab: bool = False  # the tab alone matches COUNT_CAP or more cases
    all: bool = False  # the whole filter matches COUNT_CAP or more cases


def density(*, counts: dict[str, int], state: ListState, counted: tuple[int, bool] | None) -> Density:
    """Density from the tab counts and, for a narrowed list, its capped count; PostgreSQL's
    planner has the statistics to choose by itself, so there it is always the default."""
    if connection.vendor != "sqlite":
        return Density()
    tab = counts.get(state.tab, 0) > COUNT_CAP
    return Density(tab=tab, all=counted[1] if counted else tab)


def cases_filter(
    cases: QuerySet[Case],
    *,
    form: CaseFilterForm,
    state: ListState,
    user: Any,
    search_index: bool = True,
    dense: Density = Density(),
) -> QuerySet[Case]:
    """Apply the tab, every valid filter and the search box (see cases_search for search_index).

    SQLite has no statistics on how values are spread (no STAT4), so for `lifecycle = 'Active'`
    it reads the lifecycle index and sorts every Active case, where reading the sort column's
    index and skipping the few others finds a page in a few dozen rows. When the list knows the
    matches are dense (`dense`, from counts it has anyway), conditions are written so that no
    index answers them: all of them when the whole filter is dense, only the tab's when just the
    tab is (the other conditions then narrow the list, and their indexes are the way).
    """
    v = form.value
    sort_column = SORTS[state.sort_key]

    def where(name: str, lookup: str, value: Any, *, hide: bool = dense.all) -> Q:
        # `hide` keeps the condition from SQLite's indexes; never the sort column's, as that is
        # where the sort index seeks to.
        if not hide or name == sort_column:
            return Q(**{f"{name}__{lookup}": value})
        return Q(LOOKUPS[lookup](unindexed(name), value))

    def equal(name: str, value: Any, *, hide: bool = dense.all) -> Q:
        return where(name, "exact", value, hide=hide)

    if state.tab == MINE:
        cases = cases.filter(equal("assigned_to_id", user.pk, hide=dense.tab or dense.all))
    elif (lifecycle := TABS.get(state.tab, ("", None))[1]) is not None:
        cases = cases.filter(equal("lifecycle", lifecycle, hide=dense.tab or dense.all))
    exact = {
        "lifecycle": v("lifecycle"),
        "close_code": v("close_code"),
        "engagement_phase": v("phase"),
        "currency": (v("currency") or "").upper(),
        "debtor_country_code": (v("country") or "").upper(),
        "debtor_type": v("debtor_type"),
    }
    for name, value in exact.items():
        if value:
            cases = cases.filter(equal(name, value))
    if assigned := v("assigned"):
        if assigned == "none":
            cases = cases.filter(assigned_to__isnull=True)
        else:
            cases = cases.filter(equal("assigned_to_id", int(assigned)))
    ranges = [
        ("gross_amount", "gte", v("amount_min")),
        ("gross_amount", "lte", v("amount_max")),
        ("remainder", "gte", v("remainder_min")),
        ("remainder", "lte", v("remainder_max")),
    ]
    for column, prefix in (
        ("date_created", "created"),
        ("remote_updated_at", "updated"),
        ("due_date", "due"),
    ):
        if start := v(f"{prefix}_from"):
            ranges.append((column, "gte", _day_start(start)))
        if end := v(f"{prefix}_to"):
            ranges.append((column, "lt", _day_start(end + timedelta(days=1))))
    for column, lookup, value in ranges:
        if value is not None:
            cases = cases.filter(where(column, lookup, value))
    if needs_info := v("needs_info"):
        cases = cases.filter(equal("needs_info", needs_info == "yes"))
    if disputed := v("disputed"):
        # Only "Yes, the claim is disputed" counts (see Case.is_disputed).
        is_disputed = Q(dispute_status__startswith="Yes")
        cases = cases.filter(is_disputed if disputed == "yes" else ~is_disputed)
    if query := (v("q") or "").strip():
        cases = cases_search(cases, query=query, index=search_index)
    return cases


def counts_first(form: CaseFilterForm) -> bool:
    """Whether the list counts its matches before reading its page: on SQLite, where how many
    match decides how the page is read (see density and cases_search), once anything narrows it."""
    return connection.vendor == "sqlite" and form.narrowed


# --- Tab counts -----------------------------------------------------------------------------


def tab_counts(*, user: Any, include_test: bool) -> dict[str, int]:
    """Cases per tab, live: one read of the trigger-kept counts (cases.counts), no cache. Under
    TEST_CASES: how many test cases there are, left out of the tabs or included."""
    by_group, tests = case_counts_and_tests(include_test=include_test)
    counts = dict.fromkeys([*TABS, MINE], 0) | {TEST_CASES: tests}
    tabs = {lifecycle: tab for tab, (_, lifecycle) in TABS.items() if lifecycle}
    for (lifecycle, assignee), cases in by_group.items():
        counts["all"] += cases
        if tab := tabs.get(lifecycle):
            counts[tab] += cases
        if assignee == user.pk:
            counts[MINE] += cases
    return counts


def cases_count_capped(cases: QuerySet[Case]) -> tuple[int, bool]:
    """(count, capped): exact up to COUNT_CAP, else COUNT_CAP and True."""
    count = cases.order_by()[: COUNT_CAP + 1].count()
    return min(count, COUNT_CAP), count > COUNT_CAP
