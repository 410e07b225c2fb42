"""Text cells for files a spreadsheet program opens (CSV exports): never a formula.

A cell whose first visible character is =, +, - or @ is read as a formula by Excel, LibreOffice
and Google Sheets, and they skip spaces, tabs and line breaks before it; data from Debitura (a
debtor's name, a creditor's comment) must not run there. Such a cell gets a leading apostrophe,
which the programs show as text (OWASP's advice for CSV injection); a tab or a carriage return
first is prefixed too, as OWASP lists them.
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = frozenset("=+-@")


def spreadsheet_text(text: str) -> str:
    """`text` as a cell that is never a formula: with a leading apostrophe when it would be one."""
    if text[:1] in ("\t", "\r"):
        return f"'{text}"
    start = 0
    while start < len(text) and _skipped(text[start]):
        start += 1
    # NFKC: the full-width signs a spreadsheet may fold to their ASCII twins as it reads the file.
    first = unicodedata.normalize("NFKC", text[start : start + 1])
    return f"'{text}" if first in FORMULA_STARTS else text


def _skipped(char: str) -> bool:
    # What a spreadsheet passes over before the formula sign: white space and invisible characters.
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")
