"""The case list's state: tabs, filters, search, sort and keyset pages, all read from the URL.

Everything the list shows is decided here from the query string, so a URL is the whole state:
shareable, bookmarkable (saved views store it) and replayed by the back button.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact, GreaterThanOrEqual, IsNull, LessThan, LessThanOrEqual
from django.utils import timezone

from accounts.roles import roles_with
from cases.counts import case_counts_and_tests
from cases.models import Case, CaseCount, CloseCodeChoices, LifecycleChoices

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

# Sort key -> the column it orders by. Every sort ends with the id for a stable order (keyset).
SORTS: dict[str, str] = {
    "reference": "reference",
    "partner_reference": "partner_reference",
    "debtor": "debtor_name",
    "creditor": "creditor_name",
    "lifecycle": "lifecycle",
    "phase": "engagement_phase",
    "amount": "gross_amount",
    "remainder": "remainder",
    "created": "date_created",
    "updated": "remote_updated_at",
    "due": "due_date",
    "assigned": "assigned_to__username",
}
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


class Unindexed(Func):
    """The column's value, written so that SQLite answers no condition on it from an index.

    `+column` on SQLite (the same value); a decimal column is CAST to NUMERIC instead, as the unary
    plus also drops the column's affinity and Django sends decimals as text. Elsewhere: the column.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        numeric = isinstance(self.output_field, models.DecimalField)
        template = "CAST(%(expressions)s AS NUMERIC)" if numeric else "+%(expressions)s"
        return self.as_sql(compiler, connection, template=template, **extra)


def unindexed(column: str) -> Unindexed:
    field = Case._meta.get_field(column)
    assert isinstance(field, models.Field)
    return Unindexed(F(column), output_field=field)


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


# The shortest term a trigram index can answer; shorter ones scan the column.
TRIGRAM = 3


def counts_first(form: CaseFilterForm) -> bool:
    """Whether the list counts its matches before reading its page: on SQLite, where how many
    match decides how the page is read (see density and cases_search), once anything narrows it."""
    return connection.vendor == "sqlite" and form.narrowed


def cases_search(cases: QuerySet[Case], *, query: str, index: bool = True) -> QuerySet[Case]:
    """Substring search over references, names, emails and phones (search_text is lower-cased).

    A plain LIKE '%…%' on the lower-cased column: PostgreSQL answers it from the pg_trgm index.
    SQLite has no such index, so a term of three characters or more reads only the rows the FTS5
    trigram table case_search (migration 0006) names; the LIKE still decides what matches. SQLite
    cannot tell how many rows that is: for a term in thousands of cases, reading along the sort
    order's index (index=False) finds a page sooner, so the list counts first (the count is capped
    and cheap through the index) and then picks.
    """
    term = query.lower()
    cases = cases.filter(search_text__contains=term)
    if index and connection.vendor == "sqlite" and len(term) >= TRIGRAM:
        # A quoted FTS5 phrase is taken literally once its quotes are doubled: the trigram
        # tokenizer makes it "these trigrams in a row", i.e. the substring.
        phrase = '"' + term.replace('"', '""') + '"'
        cases = cases.alias(search_rowid=RawSQL('"cases_case"."rowid"', ())).filter(
            search_rowid__in=RawSQL("SELECT rowid FROM case_search WHERE case_search MATCH %s", [phrase])
        )
    return cases


def case_jump_target(*, query: str) -> str | None:
    """The id of the one case whose Debitura or agency reference is `query`, ignoring case.

    Equality on the indexed reference columns (Debitura's references are upper case; agency
    references are tried as typed, upper and lower case), so the check costs the same at any size:
    a case-insensitive comparison or a substring search would read every row or every match.
    """
    query = query.strip()
    if not query or len(query) > 128:
        return None
    spellings = {query, query.upper(), query.lower()}
    candidates = (
        Case.objects.filter(IsNull(unindexed("gone_at"), True))  # the references' indexes, not case_gone
        .filter(Q(reference__in=spellings) | Q(partner_reference__in=spellings))
        .order_by()
        .values_list("id", "reference", "partner_reference")[:10]
    )
    wanted = query.casefold()
    ids = {str(pk) for pk, ref, partner in candidates if wanted in (ref.casefold(), partner.casefold())}
    return ids.pop() if len(ids) == 1 else None


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


# --- Keyset pages ---------------------------------------------------------------------------


def _nulls_largest() -> bool:
    # Where NULLs fall in an ascending ORDER BY: last on PostgreSQL, first on SQLite and MySQL.
    return connection.vendor == "postgresql"


def cursor_encode(value: Any, pk: Any) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif value is not None:
        value = str(value)
    text = json.dumps([value, str(pk)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_decode(cursor: str, *, column: str | None = None) -> tuple[Any, str] | None:
    """(value, id) from a cursor, or None for anything malformed (the list then starts over).

    With `column`, the value is also read as that column's type (a datetime for dates, a Decimal
    for amounts) and None unless the database can take it: a cursor is in the URL, so anyone can
    write one, and "zzz" as a date or an id that is no UUID must not reach the query.
    """
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, TypeError):
        return None
    if not isinstance(pk, str) or not (value is None or isinstance(value, str)):
        return None
    if column is None:
        return value, pk
    try:
        pk = str(uuid.UUID(pk))
        return (None if value is None else _cursor_value(column, value)), pk
    except (ValidationError, ValueError, TypeError, OverflowError, ArithmeticError):
        return None


def _cursor_value(column: str, value: str) -> Any:
    """The cursor's value as the sort column holds it; raises for anything else."""
    field: Any = (
        get_user_model()._meta.get_field("username")
        if column == SORTS["assigned"]
        else Case._meta.get_field(column)
    )
    # JSON can carry what a query string cannot: NULs and lone surrogates, which no database takes.
    value.encode()
    if "\x00" in value:
        raise ValueError("NUL in a cursor")
    python = field.to_python(value)
    for validator in field.validators:  # a column's length and digits: what a real row holds
        validator(python)
    if isinstance(python, datetime):
        if timezone.is_naive(python):
            raise ValueError("a cursor's time has its offset")
        python.astimezone(UTC)  # 9999-12-31T23:00-05:00 is past year 9999 in UTC
    field.get_db_prep_value(python, connection)
    return python


def _segments(column: str, value: Any, pk: str, *, descending: bool, nullable: bool) -> list[Q]:
    """Rows after (value, pk) in ORDER BY column [DESC], id [DESC], as conditions to read in turn.

    A nullable column orders as two segments, its NULL block first or last as the database puts
    it. The rest of the cursor's own segment is a range on the column's index; the segment after
    it, if any, is read only when the first did not fill the page. One OR across both segments
    would keep the database from seeking on the index at all.
    """
    id_after = Q(id__lt=pk) if descending else Q(id__gt=pk)
    nulls_at_end = _nulls_largest() != descending
    is_null = Q(**{f"{column}__isnull": True})
    if value is None:
        rest = [is_null & id_after]
        return rest if nulls_at_end else [*rest, Q(**{f"{column}__isnull": False})]
    # "column <= v AND (column < v OR id < pk)": the first half is what the index seeks to.
    op, strict = ("lte", "lt") if descending else ("gte", "gt")
    rest = [Q(**{f"{column}__{op}": value}) & (Q(**{f"{column}__{strict}": value}) | id_after)]
    return [*rest, is_null] if nullable and nulls_at_end else rest


@dataclass
class CasePage:
    """One keyset page: the rows and the cursors to the neighbouring pages."""

    cases: list[Case]
    next_cursor: str | None
    previous_cursor: str | None


def _nullable(column: str) -> bool:
    return column == SORTS["assigned"] or bool(getattr(Case._meta.get_field(column), "null", False))


# SQLite allows 500 SELECTs in one compound statement; beyond this many assignees the list sorts.
MAX_ASSIGNEE_SEGMENTS = 400


def _rows_by_assignee(
    cases: QuerySet[Case], *, cursor: tuple[str | None, str] | None, descending: bool, limit: int
) -> list[Case] | None:
    """Up to `limit` rows in assignee-name order, one index seek per assignee.

    ORDER BY the assignee's username joins auth_user and sorts every matching case. Instead each
    assignee (in username order, the unassigned as a NULL block where the database puts NULLs)
    is a segment read off case_assignee_id (assigned_to, id) with a LIMIT, all in one UNION ALL;
    the users come in one query and are attached to the rows. None: too many assignees, sort.
    """
    holders = CaseCount.objects.filter(cases__gt=0).values("assignee")
    users = list(get_user_model().objects.filter(id__in=holders).order_by("username"))
    segments: list[Any] = [*users]  # a user, or None for the unassigned
    segments.insert(len(segments) if _nulls_largest() else 0, None)
    if len(segments) > MAX_ASSIGNEE_SEGMENTS:
        return None
    if descending:
        segments.reverse()
    start, id_after = 0, Q()
    if cursor is not None:
        name, pk = cursor
        id_after = Q(id__lt=pk) if descending else Q(id__gt=pk)
        names = [None if user is None else user.username for user in segments]
        if name in names:
            start = names.index(name)
        else:  # the cursor's user is gone or renamed: go on from where the name would sort
            later = [i for i, n in enumerate(names) if n is not None and (n < name) == descending]
            start, id_after = (later[0] if later else len(segments)), Q()
    base = cases.select_related(None).order_by()
    parts: list[str] = []
    params: list[Any] = []
    for rank, user in enumerate(segments[start:]):
        owner = Q(assigned_to__isnull=True) if user is None else Q(assigned_to_id=user.pk)
        branch = base.filter(owner, id_after if rank == 0 else Q())
        branch = branch.annotate(segment=Value(rank)).order_by("-id" if descending else "id")[:limit]
        sql, branch_params = branch.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS part_{rank}")  # noqa: S608 (Django's SQL, bound params)
        params.extend(branch_params)
    if not parts:
        return []
    order = "DESC" if descending else "ASC"
    union = " UNION ALL ".join(parts)
    sql = f"SELECT * FROM ({union}) AS parts ORDER BY segment, id {order} LIMIT {int(limit)}"  # noqa: S608
    by_id = {user.pk: user for user in users}
    assigned_to = Case._meta.get_field("assigned_to")
    assert isinstance(assigned_to, models.ForeignKey)
    rows = list(Case.objects.raw(sql, params))
    for case in rows:
        user = by_id.get(case.assigned_to_id) if case.assigned_to_id else None
        assigned_to.set_cached_value(case, user)  # the template shows the assignee: no query per row
        case.sort_value = user.username if user else None  # type: ignore[attr-defined]
    return rows


def cases_page(
    cases: QuerySet[Case], *, state: ListState, after: str | None = None, before: str | None = None
) -> CasePage:
    """A page of `state.size` rows after or before a cursor, read as size + 1 rows.

    Keyset pagination: the database seeks to the cursor on the sort column's index instead of
    counting off an OFFSET, so page 400 costs what page 1 costs.
    """
    column = SORTS[state.sort_key]
    nullable = _nullable(column)
    cursor = cursor_decode(before or after or "", column=column)
    backwards = bool(before) and cursor is not None
    # Reading backwards is reading forwards in the reversed order, then flipping the rows.
    descending = state.descending != backwards
    rows = (
        _rows_by_assignee(cases, cursor=cursor, descending=descending, limit=state.size + 1)
        if state.sort_key == "assigned"
        else None
    )
    if rows is None:
        cases = cases.annotate(sort_value=F(column))
        order = [F(column).desc(), F("id").desc()] if descending else [F(column).asc(), F("id").asc()]
        segments = (
            [Q()] if cursor is None else _segments(column, *cursor, descending=descending, nullable=nullable)
        )
        rows = []
        for segment in segments:  # a second query only on the page where the NULL block begins
            rows += cases.filter(segment).order_by(*order)[: state.size + 1 - len(rows)]
            if len(rows) > state.size:
                break
    more = len(rows) > state.size
    rows = rows[: state.size]
    if backwards:
        rows.reverse()

    def at(case: Case) -> str:
        return cursor_encode(case.sort_value, case.pk)  # type: ignore[attr-defined]

    if backwards:
        return CasePage(rows, at(rows[-1]) if rows else None, at(rows[0]) if rows and more else None)
    has_previous = cursor is not None
    return CasePage(
        rows, at(rows[-1]) if rows and more else None, at(rows[0]) if rows and has_previous else None
    )
