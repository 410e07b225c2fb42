"""The fees form, and the choice Debitura asks for when a fee change moves the success fee."""

from __future__ import annotations

from typing import Any

from django import forms

from cases.forms.base import FEE_FIELDS, ActionForm, amount_field
from cases.models import Case
from outbox.models import OutboxAction


class FeesForm(ActionForm):
    name = "fees"
    title = "Update fees"
    submit_label = "Update fees…"
    confirm_question = "Replace the case's fees at Debitura?"

    interest_fees = amount_field("Interest")
    reminder_fees = amount_field("Reminder fees")
    collection_fees = amount_field("Collection fees")
    gross_amount = amount_field(
        "Principal", required=False, help_text="Only to correct it; a change may move the success fee."
    )
    rows = {FEE_FIELDS: "They replace the case's fees at Debitura."}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        for name in FEE_FIELDS:
            initial.setdefault(name, getattr(case, name))
        super().__init__(*args, case=case, **kwargs)


class FeesConsentForm(ActionForm):
    name = "fees_consent"
    title = "Debitura asks about the success fee"
    submit_label = "Resend with this choice"
    confirm = False  # the choice is the confirmation Debitura asked for

    CONFIRM, KEEP = "confirm", "keep"
    action = forms.UUIDField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label="Your choice",
        widget=forms.RadioSelect,
        choices=[
            (CONFIRM, "Confirm the price change (Debitura's standard rate)"),
            (KEEP, "Keep the intentional rate (the negotiated one)"),
        ],
    )

    def __init__(self, *args: Any, case: Case, refused: OutboxAction | None = None, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.refused = refused  # the failed row whose answer from Debitura the form repeats
