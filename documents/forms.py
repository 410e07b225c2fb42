"""The case page's upload form: one or more files with a document type and description."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from cases.models import DOCUMENT_TYPE_LABELS
from debitura.validation import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """One or more files from a single <input type=file multiple>."""

    widget = _MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        if not items and self.required:
            raise forms.ValidationError("Choose at least one file.", code="required")
        return [super(_MultipleFileField, self).clean(item, initial) for item in items]


class DocumentUploadForm(forms.Form):
    """Files for the case with a document type and description (per file with JavaScript, else shared)."""

    MAX_FILES = 10
    MAX_BYTES = MAX_UPLOAD_BYTES  # for the page's script, which spares sending a file too large

    documents = _MultipleFileField(
        label="Files",
        widget=_MultipleFileInput(attrs={"multiple": True, "accept": ",".join(sorted(ALLOWED_EXTENSIONS))}),
        help_text="PDF, Word, Excel, PNG or JPEG images, text, CSV, e-mail (.eml) or zip; 25 MB at most.",
    )
    document_type = forms.ChoiceField(
        label="Document type",
        required=False,
        choices=[("", "Uncategorised"), *DOCUMENT_TYPE_LABELS.items()],
    )
    description = forms.CharField(
        label="Description", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "upload_%s")
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        # Per file: what was refused (name, message) and what was queued, shown under the form.
        self.refused: list[tuple[str, str]] = []

    def clean_documents(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["documents"]
        if len(files) > self.MAX_FILES:
            raise forms.ValidationError(f"At most {self.MAX_FILES} files at once.")
        return files
