"""The bulk note's form: the text, an optional date, and the token that makes a double submit
return the first bulk note."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone

from bulknotes.actions import TEXT_MAX


class BulkNoteForm(forms.Form):
    """A progress note for the ticked Active cases."""

    text = forms.CharField(
        label="Progress note",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=TEXT_MAX,
        help_text=f"Shared with each case's creditor on its timeline. At most {TEXT_MAX} characters.",
    )
    event_date = forms.DateField(
        label="Happened on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave empty for today; never in the future.",
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "bulk_%s")
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["event_date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_text(self) -> str:
        text = str(self.cleaned_data["text"]).strip()
        if not text:
            raise forms.ValidationError("Write the note.")
        return text

    def clean_event_date(self) -> Any:
        day = self.cleaned_data["event_date"]
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError("Cannot be in the future.")
        return day
