"""The case list's search box: substring search over the local copy, and the jump to one case by reference."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull

from cases.models import Case
from cases.planner import unindexed

# The shortest term a trigram index can answer; shorter ones scan the column.
TRIGRAM = 3


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
