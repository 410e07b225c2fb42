"""The note form: the note, and when it happened (never in the future, never before the claim)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from cases.forms.base import ActionForm
from cases.models import Case


class NoteForm(ActionForm):
    name = "note"
    title = "Add a note"
    submit_label = "Add note"
    confirm = False  # frequent and harmless: one click

    description = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text="Shared with the creditor on the timeline.",
    )
    event_date = forms.DateTimeField(
        label="Happened at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for now; never in the future.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self._date_floor("event_date")

    def clean_event_date(self) -> Any:
        moment = self.cleaned_data["event_date"]
        if moment is not None and moment > timezone.now():
            raise forms.ValidationError("Cannot be in the future.")
        self._check_floor(moment)
        return moment
