"""Keyset pages of the case list: the sort columns, cursors in the URL, and reading a page after one.

The database seeks to the cursor on the sort column's index instead of counting off an OFFSET,
so page 400 costs what page 1 costs. A cursor comes from the URL, so it is checked against its
column's type before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q, QuerySet, Value
from django.utils import timezone

from cases.models import Case, CaseCount

if TYPE_CHECKING:
    from cases.filters import ListState

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
