"""Version stamps that tell an open page whether what it shows has changed, without rendering it.

A page polls a tiny endpoint with the stamp it was rendered with; only when the stamp differs does
it fetch the regions again. A stamp is read in one query from columns that every local write to a
case or its children moves: the case row (sync, lifecycle, money), the newest outbox change
(queued, sent, done, failed, payments written with it), and the count or newest write of each child
table (a children refresh or a partial read-back, a webhook's catch-up). Nothing here is shown to
users; the stamps are opaque and short. Read the stamp before what it stands for: a change in
between then shows at the next look, never gets lost.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from cases.children import child_parts
from cases.models import Case, CaseFile, ChatMessage, TimelineItem
from cases.unread import UNREAD
from outbox.models import OutboxAction

# Rows per state (done is what is left of the count).
STATES = (OutboxAction.State.PENDING, OutboxAction.State.SENDING, OutboxAction.State.FAILED)
# The case's own columns that a page shows or that change what it offers.
_CASE_COLUMNS = (
    "synced_at",
    "remote_updated_at",
    "children_synced_at",
    "children_stale",
    "lifecycle",
    "close_code",
    "remainder",
    "partner_reference",
    "assigned_to_id",
    "gone_at",
    "unread_messages",
)


def _per_case(queryset: QuerySet[Any], **aggregate: Any) -> Subquery:
    """One aggregate of a child table for the outer case, as a scalar subquery."""
    ((name, expression),) = aggregate.items()
    return Subquery(
        queryset.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(**{name: expression})
        .values(name)
    )


def _stamped(cases: QuerySet[Case]) -> QuerySet[Any, tuple[Any, ...]]:
    count: IntegerField[int, int] = IntegerField()
    actions = OutboxAction.objects.all()
    # Other apps' children (payments): the newest write, where they name a column for it, and the count.
    others: dict[str, Any] = {}
    for part in child_parts():
        if part.stamp_at:
            others[f"{part.name}_at"] = _per_case(part.rows(), at=Max(part.stamp_at))
        others[f"{part.name}_n"] = Coalesce(_per_case(part.rows(), n=Count("pk")), 0, output_field=count)
    return cases.annotate(
        # A relay run writes one `updated_at` (its start) on claim, retry and outcome alike, so
        # the states and attempts count too: pending -> sending -> done moves the stamp.
        actions_at=_per_case(actions, at=Max("updated_at")),
        actions_n=Coalesce(_per_case(actions, n=Count("pk")), 0, output_field=count),
        **{
            f"actions_{state}": Coalesce(
                _per_case(actions, n=Count("pk", filter=Q(state=state))), 0, output_field=count
            )
            for state in STATES
        },
        actions_tries=Coalesce(_per_case(actions, n=Sum("attempts")), 0, output_field=count),
        timeline_n=Coalesce(_per_case(TimelineItem.objects.all(), n=Count("pk")), 0, output_field=count),
        chat_n=Coalesce(_per_case(ChatMessage.objects.all(), n=Count("pk")), 0, output_field=count),
        chat_unseen=Coalesce(
            _per_case(ChatMessage.objects.all(), n=Count("pk", filter=UNREAD)),
            0,
            output_field=count,
        ),
        files_n=Coalesce(_per_case(CaseFile.objects.all(), n=Count("pk")), 0, output_field=count),
        **others,
    ).values_list(
        "pk",
        *_CASE_COLUMNS,
        "actions_at",
        "actions_n",
        *(f"actions_{state}" for state in STATES),
        "actions_tries",
        "timeline_n",
        "chat_n",
        "chat_unseen",
        "files_n",
        *others,
    )


def _digest(values: Iterable[Any]) -> str:
    return hashlib.blake2b(repr(tuple(values)).encode(), digest_size=8).hexdigest()


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    # The database's own values (no field conversion), the same for one case and for many.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_MARKER = uuid.UUID(int=0)


@functools.cache
def _one_case_sql(vendor: str) -> tuple[str, tuple[Any, ...], int]:
    """The stamp's SQL for one case, built once: an open page asks every few seconds, and building
    the query with its twelve subqueries costs a hundred times what running it does."""
    sql, params = _stamped(Case.objects.filter(pk=_MARKER)).query.sql_with_params()
    marker = Case._meta.pk.get_db_prep_value(_MARKER, connection)
    return sql, tuple(params), list(params).index(marker)


def case_stamp(case_id: Any) -> str | None:
    """The case page's version: changes whenever anything the page shows changed here; None if no case."""
    try:
        key = uuid.UUID(str(case_id))
    except ValueError:
        return None
    sql, params, at = _one_case_sql(connection.vendor)
    prepared = Case._meta.pk.get_db_prep_value(key, connection)
    rows = _rows(sql, (*params[:at], prepared, *params[at + 1 :]))
    return _digest(rows[0][1:]) if rows else None


def case_stamps(case_ids: Iterable[Any]) -> dict[str, str]:
    """Versions of several cases in one query, by case id (as a string); missing cases are left out."""
    sql, params = _stamped(Case.objects.filter(pk__in=list(case_ids))).query.sql_with_params()
    return {str(uuid.UUID(str(row[0]))): _digest(row[1:]) for row in _rows(sql, params)}


# What a row of the case list shows (templates/cases/case_list.html#case_row, marked up by
# cases.views_list._rows_mark). The list's live check compares these columns rather than
# case_stamp: a row shows none of the children or actions, whose dozen subqueries per case would
# make a poll over 100 rows the dearest query the list runs.
LIST_ROW_COLUMNS = (
    "reference",
    "partner_reference",
    "is_test_case",
    "first_opened_at",
    "lifecycle",
    "close_code",
    "engagement_phase",
    "dispute_status",
    "date_created",
    "debtor_name",
    "debtor_country_code",
    "debtor_country",
    "creditor_name",
    "gross_amount",
    "remainder",
    "currency",
    "remote_updated_at",
    "due_date",
    "exclusive_period_end",
    "exclusivity_status",
    "assigned_to_id",
    "debitura_assignee_name",
    "unread_messages",
    "gone_at",
)


def case_row_stamp(case: Case) -> str:
    """The version of a list row as drawn from this instance (no query)."""
    return _digest(getattr(case, column) for column in LIST_ROW_COLUMNS)


def case_row_stamps(case_ids: Iterable[Any]) -> dict[str, str]:
    """The versions of several list rows as the database holds them now, in one query, by case id."""
    rows = Case.objects.filter(pk__in=list(case_ids)).order_by().values_list("pk", *LIST_ROW_COLUMNS)
    return {str(row[0]): _digest(row[1:]) for row in rows}


def case_rows_stamp(case_ids: Sequence[str], stamps: dict[str, str]) -> str:
    """One version for the rows on screen, in their order (a case no longer held counts as empty)."""
    return _digest((case_id, stamps.get(case_id, "")) for case_id in case_ids)
