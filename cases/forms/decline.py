"""The decline form: one of Debitura's reasons, and an explanation for the close comment."""

from __future__ import annotations

from django import forms

from cases.actions import DeclineReason
from cases.forms.base import ActionForm


class DeclineForm(ActionForm):
    name = "decline"
    title = "Decline the case"
    submit_label = "Decline…"
    confirm_question = "Decline the case? Debitura closes it; this cannot be undone here."

    reason = forms.ChoiceField(choices=DeclineReason.choices)
    text = forms.CharField(
        label="Explanation",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1900,
        help_text="Shared with the creditor in the close comment.",
    )
