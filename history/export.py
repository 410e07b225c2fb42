"""A case's history as CSV for supervisors: every entry, with no cell a spreadsheet runs."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone

from history.timeline import Entry
from partnerportal.spreadsheet import spreadsheet_text

CSV_COLUMNS = ("When", "Kind", "Who", "What", "State", "Answered", "Details")
SOURCE_WORDS = {"action": "Action sent to Debitura", "change": "Local change", "view": "Opened"}


class _Echo:
    """A file whose write returns the line: csv.writer formats, the response streams."""

    def write(self, value: str) -> str:
        return value


def _when(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _row(entry: Entry) -> list[Any]:
    texts = [entry.who, entry.what, entry.state_label, entry.detail]
    who, what, state, detail = (spreadsheet_text(text) for text in texts)
    return [_when(entry.at), SOURCE_WORDS[entry.source], who, what, state, _when(entry.finished_at), detail]


def case_history_csv_rows(*, entries: Iterable[Entry]) -> Iterator[str]:
    """The entries as CSV lines, header first; text cells never start a formula."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        yield writer.writerow(_row(entry))
