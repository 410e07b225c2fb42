"""The close form: Debitura's close code (other apps' close rules checked as it is picked) and a comment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.actions import case_close_check
from cases.forms.base import ActionForm
from cases.models import Case, CloseCodeChoices
from debitura.enums import CloseCode


class CloseForm(ActionForm):
    name = "close"
    title = "Close the case"
    submit_label = "Close…"
    confirm_question = "Close the case at Debitura? This cannot be undone here."

    close_code = forms.ChoiceField(
        label="Close code",
        choices=[("", "Choose why…")]
        + [c for c in CloseCodeChoices.choices if c[0] != CloseCodeChoices.UNKNOWN],
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Needed with Other.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        # Debitura's payment rules are checked as soon as a code is picked (htmx), not only after
        # the confirmation step; the submit checks them again. Only the field's feedback is
        # swapped: a comment typed while the check is on its way stays.
        feedback = f"#{self['close_code'].auto_id}-feedback"
        self.fields["close_code"].widget.attrs.update(
            {
                "hx-post": reverse("cases:close", args=[case.pk]),
                "hx-trigger": "change",
                "hx-target": feedback,
                "hx-select": feedback,
                "hx-swap": "outerHTML",
                "hx-vals": '{"check": "close_code"}',
            }
        )

    def clean_close_code(self) -> str:
        code: str = self.cleaned_data["close_code"]
        # The close rules (payments: Paid and Partially paid), as the agent picks the code.
        try:
            case_close_check(case=self.case, close_code=CloseCode(code))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict.get("close_code", exc.messages)) from None
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("close_code") == CloseCodeChoices.OTHER and not data.get("comment", "").strip():
            self.add_error("comment", "Say why when the close code is Other.")
        return data
