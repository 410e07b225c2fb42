"""Forms to record, change and cancel a promise; the schedule is checked by the same code as the
service (promises.actions.promise_plan), so each error shows next to its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone

from cases.actions import ActionInvalid
from cases.forms import ActionForm, AmountField
from cases.models import Case
from partnerportal.money import minor_unit
from promises.actions import MADE_BY_MAX, NOTE_MAX, REASON_MAX, PromiseFields, promise_plan
from promises.models import Promise
from promises.schedule import MAX_INSTALMENTS

INTERVAL_CHOICES = [("", "Choose…"), *Promise.Interval.choices]


class PromiseFieldsForm(ActionForm):
    """A promise's values: amount, first date, the schedule, who promised and how."""

    confirm = False  # a note to the creditor's timeline, like "Add a note": one click
    # A promise already running may keep its first date in the past (a change); a new one may not.
    past_allowed: date | None = None

    amount = AmountField(label="Amount promised", help_text="The total, in the case's currency.")
    first_due = forms.DateField(
        label="First payment due",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The date of the only payment, or of the first instalment.",
    )
    instalments = forms.IntegerField(
        label="Instalments",
        initial=1,
        min_value=1,
        max_value=MAX_INSTALMENTS,
        error_messages={
            "min_value": "At least one.",
            "max_value": f"At most {MAX_INSTALMENTS} instalments.",
        },
    )
    interval = forms.ChoiceField(label="Every", choices=INTERVAL_CHOICES, required=False)
    instalment_amount = AmountField(
        label="Each instalment",
        required=False,
        help_text="Leave empty to split the amount evenly (any remainder on the last instalment).",
    )
    made_by = forms.CharField(
        label="Promised by",
        max_length=MADE_BY_MAX,
        help_text="Who made the promise, e.g. the debtor's contact.",
    )
    channel = forms.ChoiceField(label="How", choices=Promise.Channel.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shared with the creditor on the timeline, with the promise.",
    )
    rows = {("instalments", "interval"): "One instalment is a single payment on the first date."}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        for name in ("amount", "instalment_amount"):
            field = self.fields[name]
            field.label = f"{field.label} ({case.currency})"
            # Zero and negative amounts get the service's own words ("Must be more than zero").
            field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
            field.widget.attrs["min"] = str(minor_unit(case.currency))
        self.fields["first_due"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = ("amount", "first_due", "instalments", "made_by", "channel")
        if any(data.get(name) in (None, "") for name in names):
            return data  # the missing field says so already
        try:
            promise_plan(
                case=self.case,
                fields=self.promise_fields(),
                today=timezone.localdate(),
                past_allowed=self.past_allowed,
            )
        except ActionInvalid as exc:
            self.add_service_errors(exc.message_dict)
        return data

    def promise_fields(self) -> PromiseFields:
        """The cleaned values as the promise services take them."""
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "first_due": data["first_due"],
            "instalments": data["instalments"],
            "interval": data.get("interval") or "",
            "instalment_amount": data.get("instalment_amount"),
            "made_by": data["made_by"],
            "channel": data["channel"],
            "note": data.get("note") or "",
        }


class PromiseRecordForm(PromiseFieldsForm):
    name = "promise"
    title = "Record a promise to pay"
    submit_label = "Record promise"

    @property
    def url_name(self) -> str:
        return "promises:record"


class PromiseChangeForm(PromiseFieldsForm):
    name = "promise_change"
    title = "Change the promise"
    submit_label = "Save the change"

    reason = forms.CharField(
        label="Why",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history and sent with the note.",
    )

    def __init__(self, *args: Any, promise: Promise, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        schedule = list(promise.schedule.all())
        for name in ("amount", "first_due", "instalments", "interval", "made_by", "channel", "note"):
            initial.setdefault(name, getattr(promise, name))
        if len(schedule) > 1 and schedule[-1].amount != schedule[0].amount:
            initial.setdefault("instalment_amount", schedule[0].amount)
        super().__init__(*args, case=promise.case, **kwargs)
        self.promise = promise
        self.past_allowed = promise.first_due
        self.fields["first_due"].widget.attrs.pop("min", None)


class PromiseCancelForm(ActionForm):
    name = "promise_cancel"
    title = "Cancel the promise"
    submit_label = "Cancel the promise"
    confirm = False

    reason = forms.CharField(
        label="Why",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history and sent with the note.",
    )
