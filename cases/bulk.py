"""One statement that inserts new rows and overwrites changed ones: the case sync's write path.

The ORM's bulk_create and bulk_update prepare every value through each field's
get_db_prep_save; on PostgreSQL bulk_create sends its rows as UNNEST arrays whose text form
psycopg builds element by element, and bulk_update writes a CASE WHEN per column. For pages of
a hundred 80-column cases that was most of a sync. Here the statement and one adapter per
column come from the model and the connection once, and a page is one INSERT ... ON CONFLICT
(pk) DO UPDATE, which creates and updates alike (on PostgreSQL fed by COPY).
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

Adapter = Callable[[Any], Any]

# Values of these types reach the driver as they are (get_db_prep_save only coerces them).
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}


def _adapter(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Adapter | None:
    """How one column's value becomes a driver parameter; None when it goes as it is.

    Rows arrive typed (str, bool, int, Decimal, aware datetime, UUID or its text, JSON as text),
    so of get_db_prep_save only the backend's own adaptation is left, done here directly.
    """
    if isinstance(field, models.ForeignKey):
        return _adapter(field.target_field, connection)
    kind = field.get_internal_type()
    if kind in _AS_IS or kind == "JSONField":
        # JSON columns take the text the caller made (and hashed): encoding twice would cost
        # as much as the rest of a row.
        return None
    if connection.vendor == "postgresql":
        if kind in ("DecimalField", "DateTimeField", "UUIDField"):
            return None  # their COPY text is what numeric_in, timestamptz_in and uuid_in read
    elif kind == "DecimalField":
        return None  # Django registers str() as sqlite3's adapter for Decimal
    elif kind == "DateTimeField":
        return _sqlite_datetime(connection.timezone)
    elif kind == "UUIDField":
        return _uuid_hex
    alias = connection.alias
    return lambda value: field.get_db_prep_save(value, connections[alias])


def _sqlite_datetime(tz: tzinfo | None) -> Adapter:
    """SQLite's adapt_datetimefield_value for aware values: naive text in the connection's zone."""

    def adapt(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(tz).isoformat(" ")[:-6]

    return adapt


def _uuid_hex(value: Any) -> str | None:
    """UUIDField's value where UUIDs are stored as 32 hex digits (SQLite)."""
    if value is None:
        return None
    if type(value) is str and len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        digits = value.replace("-", "").lower()
        if not digits.strip("0123456789abcdef"):
            return digits
        raise ValueError(f"{value!r} is not a valid UUID.")
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(value)).hex


@dataclass(frozen=True)
class Upsert:
    """INSERT ... ON CONFLICT (pk) DO UPDATE of the given columns, for one model and connection.

    Rows are sequences of values for exactly `columns` (attnames, the primary key among them), in
    that order. A new row gets the model defaults in the other columns; an existing row keeps them.
    """

    using: str  # the database alias; each thread writes through its own connection to it
    vendor: str
    columns: tuple[str, ...]
    adapters: tuple[tuple[int, Adapter], ...]  # (position, adapter) where a value needs one
    others: tuple[models.Field[Any, Any], ...]  # the columns rows leave out, after `columns`
    table: str  # quoted
    column_list: str  # quoted, `columns` then `others`
    insert: str  # INSERT INTO table (column_list) {source} ON CONFLICT ...
    stage: str  # PostgreSQL: the temporary table a page is copied into
    statements: dict[int, str] = field(default_factory=dict)  # multi-row INSERTs by row count

    @classmethod
    def build(
        cls, model: type[models.Model], columns: tuple[str, ...], connection: BaseDatabaseWrapper
    ) -> Upsert:
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotSupportedError(f"Upsert is written for PostgreSQL and SQLite, not {connection.vendor}.")
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        unknown = sorted(set(columns) - by_attname.keys())
        if unknown or meta.pk is None or meta.pk.attname not in columns:
            raise ValueError(f"Rows must carry the primary key and only concrete attnames, not {unknown}.")
        given = [by_attname[name] for name in columns]
        others = [f for f in meta.concrete_fields if f.attname not in columns]
        qn = connection.ops.quote_name
        column_list = ", ".join(qn(f.column) for f in given + others)
        assignments = ", ".join(
            f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in given if not f.primary_key
        )
        # The stage's name carries the column list, so a session that outlives a migration
        # never copies into a stale shape.
        shape = hashlib.blake2b(column_list.encode(), digest_size=4).hexdigest()
        adapters = [(i, _adapter(f, connection)) for i, f in enumerate(given)]
        return cls(
            using=connection.alias,
            vendor=connection.vendor,
            columns=columns,
            adapters=tuple((i, adapt) for i, adapt in adapters if adapt is not None),
            others=tuple(others),
            table=qn(meta.db_table),
            column_list=column_list,
            insert=(
                f"INSERT INTO {qn(meta.db_table)} ({column_list}) {{source}} "
                f"ON CONFLICT ({qn(meta.pk.column)}) DO UPDATE SET {assignments}"
            ),
            stage=qn(f"upsert_{meta.db_table}_{shape}"),
        )

    def params(self, row: Sequence[Any], defaults: tuple[Any, ...] = ()) -> list[Any]:
        """One row's values in statement order, adapted for the driver, then `defaults`."""
        values = [*row, *defaults]
        for i, adapt in self.adapters:
            values[i] = adapt(values[i])
        return values

    def execute(self, rows: Sequence[Sequence[Any]], *, new: bool = False) -> None:
        """Write `rows`: COPY and one INSERT on PostgreSQL, multi-row INSERTs elsewhere.

        `new` says none of the rows was in the table when the caller looked: on PostgreSQL they
        are then copied straight into it, and through the stage only if one arrived meanwhile.
        """
        if not rows:
            return
        # Once per call, not per plan: a default may be a callable such as timezone.now.
        connection = connections[self.using]
        defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in self.others)
        params = [self.params(row, defaults) for row in rows]
        with connection.cursor() as cursor:
            if self.vendor != "postgresql":
                self._insert_values(cursor, params, _max_params(connection))
            elif not (new and self._copy_new(cursor, params)):
                self._copy_and_insert(cursor, params)

    def _copy_new(self, cursor: Any, params: list[list[Any]]) -> bool:
        """COPY rows believed new into the table itself; False, having written nothing, if one was not.

        Each row is written once, not into the stage, out of it and into the table.
        """
        from psycopg.errors import UniqueViolation

        copy_sql = f"COPY {self.table} ({self.column_list}) FROM STDIN"
        try:
            # A savepoint: a case written by someone else since the caller's read (a webhook's
            # refresh) fails the COPY, and the page then goes through ON CONFLICT after all.
            with (
                transaction.atomic(using=self.using),
                _logged(cursor, copy_sql),
                cursor.cursor.copy(copy_sql) as copy,
            ):
                for values in params:
                    copy.write_row(values)
        except UniqueViolation:
            return False
        return True

    def _copy_and_insert(self, cursor: Any, params: list[list[Any]]) -> None:
        # COPY into a temporary table shaped like the target, then one INSERT ... SELECT: one
        # parse and plan per page instead of one per row, and no per-value adaptation (COPY's
        # text form is what the column types read). IF NOT EXISTS in every transaction keeps
        # it right behind a transaction-pooling proxy too.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.stage} (LIKE {self.table}) ON COMMIT DELETE ROWS"
        )
        copy_sql = f"COPY {self.stage} ({self.column_list}) FROM STDIN"
        with _logged(cursor, copy_sql), cursor.cursor.copy(copy_sql) as copy:
            for values in params:
                copy.write_row(values)
        # The DELETE empties the stage in the same statement: a page written inside an outer
        # transaction (a test, a caller's atomic block) must not see the last page's rows.
        page = f"WITH page AS (DELETE FROM {self.stage} RETURNING *) "  # noqa: S608
        select = f"SELECT {self.column_list} FROM page"  # noqa: S608
        cursor.execute(page + self.insert.format(source=select))

    def _insert_values(self, cursor: Any, params: list[list[Any]], max_params: int) -> None:
        # One statement for as many rows as the bound-parameter limit allows (the whole page
        # on a current SQLite) rather than executemany: the driver lets go of the GIL once per
        # statement, and the page prefetch thread waits on it to decode the next page.
        width = len(params[0])
        per_statement = max(1, max_params // width)
        for start in range(0, len(params), per_statement):
            chunk = params[start : start + per_statement]
            sql = self.statements.get(len(chunk))
            if sql is None:
                row = "(" + ", ".join(["?"] * width) + ")"
                sql = self.statements[len(chunk)] = self.insert.format(
                    source="VALUES " + ", ".join([row] * len(chunk))
                )
            # sqlite3's own execute with qmark SQL: Django's wrapper would rewrite %s on every
            # call, and its DEBUG log would quote thousands of values into connection.queries
            # per page; _logged lists the statement instead, as executemany would.
            with _logged(cursor, sql):
                sqlite3.Cursor.execute(cursor.cursor, sql, [value for values in chunk for value in values])


def _logged(cursor: Any, sql: str) -> AbstractContextManager[Any]:
    """Under DEBUG, list a statement run on the driver's cursor in connection.queries."""
    debug_sql = getattr(cursor, "debug_sql", None)
    return debug_sql(sql) if debug_sql is not None else nullcontext()


def _max_params(connection: BaseDatabaseWrapper) -> int:
    """SQLite's real bound-parameter limit (32,766 since 3.32), not Django's cautious 999."""
    connection.ensure_connection()
    return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


_plans: dict[tuple[str, type[models.Model], tuple[str, ...]], Upsert] = {}


def upsert_plan(
    model: type[models.Model], *, columns: Iterable[str], using: str = DEFAULT_DB_ALIAS
) -> Upsert:
    """The Upsert of `model` rows carrying `columns` on database `using`, built once."""
    key = (using, model, tuple(columns))
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = Upsert.build(model, key[2], connections[using])
    return plan
