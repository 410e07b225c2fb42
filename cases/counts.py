"""Live case counts per lifecycle and assignee, read from cases_casecount (see CaseCount).

Triggers on the case table keep cases_casecount right in the same transaction as every write
(migration 0007), so the list's tabs cost one read of a few rows at any table size and are never
stale. On PostgreSQL the table collects change rows; case_counts folds them together once there
are more than FOLD_AT.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Sum

from cases.models import CaseCount

FOLD_AT = 200

# Takes the change rows no other transaction holds (SKIP LOCKED: a writer never waits on a
# reader's fold, nor two folds on each other) and puts back one row per group with their sum.
FOLD_SQL = """
WITH folded AS (
    DELETE FROM cases_casecount
    WHERE id IN (SELECT id FROM cases_casecount FOR UPDATE SKIP LOCKED)
    RETURNING lifecycle, assignee, is_test_case, cases
)
INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases)
SELECT lifecycle, assignee, is_test_case, sum(cases) FROM folded
GROUP BY lifecycle, assignee, is_test_case HAVING sum(cases) <> 0
"""


def case_counts(*, include_test: bool) -> dict[tuple[str, int], int]:
    """Visible cases per (lifecycle, assigned user's id or 0), test cases only on request."""
    return case_counts_and_tests(include_test=include_test)[0]


def case_counts_and_tests(*, include_test: bool) -> tuple[dict[tuple[str, int], int], int]:
    """case_counts, and how many visible test cases there are (left out or included), in one read."""
    groups = CaseCount.objects.order_by().values_list("lifecycle", "assignee", "is_test_case")
    counts: dict[tuple[str, int], int] = {}
    rows = tests = 0
    for lifecycle, assignee, is_test, cases, parts in groups.annotate(Sum("cases"), Count("id")):
        rows += parts
        tests += cases if is_test else 0
        if cases and (include_test or not is_test):
            key = (lifecycle, assignee)
            counts[key] = counts.get(key, 0) + cases
    if rows > FOLD_AT:
        case_counts_fold()
    return counts, tests


def case_counts_fold() -> None:
    """Sum PostgreSQL's change rows into one per group (SQLite's triggers keep one already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(FOLD_SQL)
