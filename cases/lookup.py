"""Batch lookup by the agency's own references: local copy first, then Debitura's batch lookup."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms

from cases.models import Case
from cases.references import case_reference_give
from cases.sync import cases_upsert_page
from debitura.errors import DebituraError, PermanentError, RequestInvalid, TransientError

MAX_REFERENCES = 100  # Debitura's batch lookup takes at most 100 references
MAX_CSV_BYTES = 100 * 1024
MAX_REFERENCE_LENGTH = 128
_SEPARATORS = re.compile(r"[,;\t\r\n]+")


def references_parse(text: str) -> list[str]:
    """References from pasted text, one per line or comma-separated; blanks and repeats dropped."""
    seen: dict[str, None] = {}
    for part in _SEPARATORS.split(text):
        reference = part.strip().strip('"').strip()
        if reference:
            seen.setdefault(reference, None)
    return list(seen)


def references_from_csv(data: bytes) -> list[str]:
    """Every non-empty cell of a small CSV file (any column; a header row is harmless: a miss)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise forms.ValidationError("The file is not UTF-8 text; save it as CSV (UTF-8).") from exc
    if "\x00" in text:
        raise forms.ValidationError("The file is not a text CSV file.")
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise forms.ValidationError(f"The CSV file cannot be read: {exc}.") from exc
    return references_parse("\n".join(cell for row in rows for cell in row))


class LookupForm(forms.Form):
    """Up to 100 agency references, pasted or as a CSV file."""

    references = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "AG-1001\nAG-1002, AG-1003"}),
        help_text="One per line or separated by commas; at most 100.",
    )
    file = forms.FileField(required=False, label="or a CSV file", help_text="At most 100 KB.")

    def clean_file(self) -> list[str]:
        upload = self.cleaned_data.get("file")
        if not upload:
            return []
        if upload.size is not None and upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(f"The file is {upload.size // 1024} KB; at most 100 KB are read.")
        # Read one byte more than allowed: a file that lied about its size is still refused.
        data = upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 100 KB.")
        return references_from_csv(data)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        wanted = references_parse(cleaned.get("references") or "")
        wanted += [r for r in cleaned.get("file") or [] if r not in wanted]
        field_name = "file" if cleaned.get("file") and not cleaned.get("references") else "references"
        if not wanted:
            self.add_error("references", "Paste at least one agency reference or choose a CSV file.")
        elif len(wanted) > MAX_REFERENCES:
            self.add_error(
                field_name, f"{len(wanted)} references given; look up at most {MAX_REFERENCES} at a time."
            )
        elif too_long := [r for r in wanted if len(r) > MAX_REFERENCE_LENGTH]:
            self.add_error(field_name, f"Not an agency reference (over 128 characters): {too_long[0][:40]}…")
        cleaned["wanted"] = wanted
        return cleaned


@dataclass
class LookupResult:
    """Matches (reference, case) in the order asked, misses, and what Debitura said if it failed."""

    matches: list[tuple[str, Case]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    fetched: int = 0  # found at Debitura and stored locally now
    error: str = ""


def cases_lookup(*, references: list[str], client: Any = None) -> LookupResult:
    """Find each agency reference locally; ask Debitura in one call for the ones not held."""
    from debitura.client import get_client  # looked up at call time: tests put the emulator there

    local = {
        case.partner_reference: case
        for case in Case.objects.filter(partner_reference__in=references, gone_at__isnull=True)
    }
    unknown = [r for r in references if r not in local]
    result = LookupResult()
    if unknown:
        try:
            remote = (client or get_client()).get_cases_by_partner_references(unknown)
        except RequestInvalid as exc:
            result.error = f"Debitura was not asked: {exc}"
        except PermanentError as exc:
            result.error = f"Debitura refused the lookup: {exc.message}"
        except TransientError as exc:
            result.error = f"Debitura did not answer ({exc}); the references below were only looked up here."
        except DebituraError as exc:
            result.error = f"Debitura's answer could not be read: {exc}"
        else:
            if remote:
                # One upsert for all of them (case_upsert does one case per call).
                cases_upsert_page(remotes=list(remote.values()))
                ids = [str(case.id) for case in remote.values()]
                stored = {str(pk): row for pk, row in Case.objects.in_bulk(ids).items()}
                for reference, case in remote.items():
                    if row := stored.get(str(case.id)):
                        local[reference] = _remember_reference(row, reference)
                        result.fetched += 1
    for reference in references:
        if reference in local:
            result.matches.append((reference, local[reference]))
        else:
            result.misses.append(reference)
    return result


def _remember_reference(case: Case, reference: str) -> Case:
    # The case DTO has no agency reference; Debitura's answer just confirmed this one, so the
    # local row learns it (and the search box finds it) where it had none.
    if not case.partner_reference and case_reference_give(
        case_id=case.id, reference=reference, reason="Confirmed by Debitura (lookup by agency reference)"
    ):
        case.partner_reference = reference
    return case
