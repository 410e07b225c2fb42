"""Conditions written so that SQLite's planner answers them from no index.

SQLite keeps no statistics on how values are spread (no STAT4), so for a condition that matches
most rows it still picks that column's index and then sorts every match. Writing the column as
Unindexed keeps it off the index: the case list (cases.filters: "not gone", which nearly every
case is, and filters known to match many rows) and the reference jump (cases.search) use it
where the column's index would be the slow way.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Func

from cases.models import Case


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
