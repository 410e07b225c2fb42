"""Cases as CSV or XLSX: the case list's own filters and sort, every matching case, in constant memory.

The rows come from the list's query string through the list's own path (cases.filters: the
form, its state, cases_base and cases_filter), ordered as the list's keyset pages order them,
so a file holds the same cases in the same order as the list, page after page. They are read in
one query with values_list(...).iterator(chunk_size): a server-side cursor on PostgreSQL, chunked
fetches on SQLite, so memory stays flat however many cases match, and the file is one consistent
snapshot (keyset chunks would skip or repeat a case the sync moves along the sort meanwhile).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.db.models import F, QuerySet
from django.http import QueryDict

from cases.filters import SORTS, CaseFilterForm, cases_base, cases_filter, list_state
from cases.models import Case
from exports.columns import DATE, FIELDS, MONEY, Column
from partnerportal.money import amount_as_written, minor_units
from partnerportal.spreadsheet import spreadsheet_text

# Rows per fetch: the memory an export holds at once. Small enough that a thousand cases already
# fill a few chunks (memory is flat from there on), large enough that PostgreSQL's cursor is
# asked a few hundred times for 100,000 cases, not per row.
CHUNK_ROWS = 500
CSV_LINES_PER_YIELD = 200
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cases_export_queryset(*, query: QueryDict | str, user: Any) -> QuerySet[Case]:
    """The cases the list shows for `query` (the list's query string), in the list's order.

    Invalid fields are ignored as the list ignores them; page cursors and the page size do not
    narrow an export. The order is the list's keyset order: the sort column, then the id.
    """
    params = QueryDict(query) if isinstance(query, str) else query
    form = CaseFilterForm(params, users=[])
    form.is_valid()
    state = list_state(form)
    cases = cases_filter(cases_base(include_test=state.include_test), form=form, state=state, user=user)
    column = SORTS[state.sort_key]
    if state.descending:
        return cases.order_by(F(column).desc(), F("id").desc())
    return cases.order_by(F(column).asc(), F("id").asc())


def cases_export_rows(*, cases: QuerySet[Case], chunk_size: int = CHUNK_ROWS) -> Iterator[tuple[Any, ...]]:
    """The export's raw rows (exports.columns.FIELDS), read a chunk at a time in one query."""
    return cases.values_list(*FIELDS).iterator(chunk_size=chunk_size)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(column: Column, value: Any, currency: str) -> str:
    if value is None or value == "":
        return ""
    if column.kind == MONEY:
        return str(amount_as_written(value, currency))
    if column.kind == DATE:
        return value.isoformat()
    return _text(str(value))  # never run a debtor's name as a formula


def _text(text: str) -> str:
    # Most cells start with a letter or digit, which no spreadsheet reads as a formula: skip the
    # full check (Unicode normalisation) for them; it costs a second per 100,000 cases.
    return text if text[:1].isalnum() else spreadsheet_text(text)


def cases_csv_lines(
    *, cases: QuerySet[Case], columns: Sequence[Column], chunk_size: int = CHUNK_ROWS
) -> Iterator[str]:
    """The cases as CSV text, header first, a few hundred lines per piece (for streaming).

    Starts with a byte order mark: Excel reads a CSV without one in the machine's legacy code
    page and garbles every name with a letter beyond ASCII (Müller, Søren).
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([column.label for column in columns])
    currency_at = FIELDS.index("currency")
    lines: list[str] = []
    for row in cases_export_rows(cases=cases, chunk_size=chunk_size):
        currency = row[currency_at]
        lines.append(writer.writerow([_csv_cell(c, c.value(row), currency) for c in columns]))
        if len(lines) >= CSV_LINES_PER_YIELD:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def cases_xlsx_write(
    *,
    cases: QuerySet[Case],
    columns: Sequence[Column],
    file: IO[bytes],
    chunk_size: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the cases as an XLSX workbook into `file`; the number of cases written.

    XlsxWriter's constant_memory mode flushes each row to a temporary file as the next begins
    and writes strings inline (no shared-string table growing with every distinct name), so
    memory stays flat. Amounts are numbers in the currency's decimals, beside the Currency
    column; dates are dates; every text is a string cell, made safe as the CSV's are.
    `progress` is told the number of rows written after each row.
    """
    workbook = xlsxwriter.Workbook(
        file,
        {
            "constant_memory": True,
            "tmpdir": tempfile.gettempdir(),
            # Text stays text: nothing from Debitura becomes a formula, a link or a number.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("Cases")
    header = workbook.add_format({"bold": True, "bottom": 1})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money: dict[int, Any] = {}

    def money_format(currency: str) -> Any:
        places = minor_units(currency)
        if places not in money:
            decimals = "." + "0" * places if places else ""
            money[places] = workbook.add_format({"num_format": f"#,##0{decimals}"})
        return money[places]

    for index, column in enumerate(columns):
        width = {MONEY: 14, DATE: 11}.get(column.kind, 28 if column.key in ("debtor", "creditor") else 16)
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.label, header)
    currency_at = FIELDS.index("currency")
    written = 0
    for row in cases_export_rows(cases=cases, chunk_size=chunk_size):
        written += 1
        currency = row[currency_at]
        for index, column in enumerate(columns):
            value = column.value(row)
            if value is None or value == "":
                continue
            if column.kind == MONEY:
                # A spreadsheet holds numbers as binary floats; the cell shows the currency's decimals.
                sheet.write_number(written, index, _number(value, currency), money_format(currency))
            elif column.kind == DATE:
                sheet.write_datetime(written, index, value, day)
            else:
                sheet.write_string(written, index, _text(str(value)))
        if progress is not None:
            progress(written)
    if columns:
        sheet.autofilter(0, 0, max(written, 1), len(columns) - 1)
    workbook.close()
    return written


def _number(value: Decimal, currency: str) -> Decimal:
    # The amount as the CSV writes it; XlsxWriter writes a Decimal's own digits (up to 16).
    return amount_as_written(value, currency)


def cases_xlsx_file(
    *, cases: QuerySet[Case], columns: Sequence[Column], directory: Path | None = None
) -> IO[bytes]:
    """The workbook in an unnamed temporary file, rewound: it is gone once the file is closed."""
    file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (the response closes it)
    try:
        cases_xlsx_write(cases=cases, columns=columns, file=file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file
