"""The export dialog's form: which columns, which format (remembered per user)."""

from __future__ import annotations

from django import forms

from exports.columns import COLUMNS, DEFAULT_KEYS

FORMATS = [("csv", "CSV (comma-separated, UTF-8)"), ("xlsx", "Excel workbook (XLSX)")]


class CaseExportForm(forms.Form):
    """Columns and format of a case export; `query` carries the list's query string along."""

    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    file_format = forms.ChoiceField(choices=FORMATS, initial="csv", widget=forms.RadioSelect, label="Format")
    columns = forms.MultipleChoiceField(
        choices=[(column.key, column.label) for column in COLUMNS],
        initial=list(DEFAULT_KEYS),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one column."},
    )
