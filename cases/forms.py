"""Forms for the agents' actions on the case page; the services in cases/actions/ decide.

Every form carries a hidden idempotency token, fresh each time the form is rendered empty and
kept through the confirmation step, so a double submit reaches the service twice with one token.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cases.actions import DeclineReason, case_close_check, partner_reference_taken
from cases.models import Case, CloseCodeChoices, TeamMember
from debitura.enums import CloseCode
from outbox.models import OutboxAction
from partnerportal.models import AgencySettings
from partnerportal.money import amount_as_written, fits_currency, minor_unit, minor_units, money_text

# What an amount may look like as typed: ASCII digits and at most one decimal point (a minus only
# so that the minimum's message can say so). Python's Decimal also reads "1_000", full-width
# digits and "1e3"; an agent typing those meant something else, so they are refused, not guessed.
AMOUNT_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
# No claim, payment or note worked here is older than this; a floor against typed years like 0202.
EARLIEST_DATE = date(2000, 1, 1)


class AmountField(forms.DecimalField):
    """An amount in the case's currency, typed as plain decimal digits; ActionForm fits its step,
    its validation and its initial value to the currency's decimals (JPY whole units)."""

    def __init__(self, *, minimum: Decimal = Decimal(0), **kwargs: Any) -> None:
        super().__init__(max_digits=20, decimal_places=4, min_value=minimum, **kwargs)
        self.widget.attrs["inputmode"] = "decimal"

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not isinstance(value, Decimal | int):
            text = str(value).strip()
            if not AMOUNT_TEXT.fullmatch(text):
                raise forms.ValidationError(
                    "Enter the amount in plain digits, with a point for decimals (e.g. 1250.50).",
                    code="invalid",
                )
            value = text
        return super().to_python(value)


def amount_field(label: str, *, required: bool = True, help_text: str = "") -> AmountField:
    """An amount in the case's currency: Decimal, never negative."""
    return AmountField(label=label, required=required, help_text=help_text)


def _in_minor_units(currency: str) -> Any:
    places = minor_units(currency)

    def check(value: Decimal | None) -> None:
        # Trailing zeros are fine (100.00 JPY); a fraction the currency cannot hold is not.
        try:
            fraction = value is not None and not fits_currency(value, currency)
        except InvalidOperation:
            return  # too many digits: the field's own max_digits check says so
        if fraction:
            raise forms.ValidationError(
                f"{currency} amounts have no decimals." if not places else f"Use at most {places} decimals."
            )

    return check


def earliest_date_for(case: Case) -> date:
    """The earliest date a payment or note on the case may carry: its claim date, never before 2000."""
    claim = timezone.localtime(case.claim_date).date() if case.claim_date else EARLIEST_DATE
    return max(claim, EARLIEST_DATE)


@dataclass
class FieldRow:
    """Fields drawn side by side (one alone most of the time), with one help line under them."""

    fields: list[forms.BoundField]
    help: str = ""


class ActionForm(forms.Form):
    """An action's form: token, the optional confirmation step, errors from the service per field."""

    name: ClassVar[str]
    refused: OutboxAction | None = None
    title: ClassVar[str]
    submit_label: ClassVar[str]
    # Outward or destructive actions show what will be sent and ask once more before sending.
    confirm: ClassVar[bool] = True
    confirm_question: ClassVar[str] = "Send this to Debitura?"

    token = forms.CharField(widget=forms.HiddenInput, max_length=255)
    # Fields drawn in one row (e.g. the three fees), with the help text for the row.
    rows: ClassVar[dict[tuple[str, ...], str]] = {}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.name}_%s")
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.case = case
        self.confirming = False
        self._amounts_in(case.currency)

    def _amounts_in(self, currency: str) -> None:
        """Every amount field shown, stepped and checked in the currency's own decimals."""
        for name, field in self.fields.items():
            if not isinstance(field, AmountField):
                continue
            field.validators = [*field.validators, _in_minor_units(currency)]
            field.widget.attrs["step"] = str(minor_unit(currency))
            if isinstance(self.initial.get(name), Decimal):
                self.initial[name] = amount_as_written(self.initial[name], currency)

    def _date_floor(self, name: str) -> None:
        """Tell the browser's date picker the earliest date _check_floor accepts."""
        widget = self.fields[name].widget
        floor = earliest_date_for(self.case).isoformat()
        local = getattr(widget, "input_type", "") == "datetime-local"
        widget.attrs["min"] = f"{floor}T00:00" if local else floor

    def _check_floor(self, when: date | datetime | None) -> None:
        if when is None:
            return
        day = timezone.localtime(when).date() if isinstance(when, datetime) else when
        floor = earliest_date_for(self.case)
        if day < floor:
            raise forms.ValidationError(
                f"Cannot be before {floor.isoformat()}"
                + (" (the claim date)." if floor > EARLIEST_DATE else ".")
            )

    @property
    def url_name(self) -> str:
        return f"cases:{self.name}"

    def layout(self) -> list[FieldRow]:
        """The visible fields in order, those of a `rows` group together."""
        group_of = {name: names for names in self.rows for name in names}
        layout: list[FieldRow] = []
        for field in self.visible_fields():
            names = group_of.get(field.name)
            if names is None:
                layout.append(FieldRow([field]))
            elif field.name == names[0]:
                layout.append(FieldRow([self[name] for name in names], self.rows[names]))
        return layout

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation step repeats back, as label and display value."""
        rows = []
        for name, field in self.fields.items():
            text = "" if field.widget.is_hidden else self.summary_value(name, self.cleaned_data.get(name))
            if text:
                # The bound field's label: a field declared without one gets its name in words.
                rows.append((str(self[name].label), text))
        return rows

    def summary_value(self, name: str, value: Any) -> str:
        """One cleaned value as the confirmation step shows it; empty to leave the row out."""
        field = self.fields[name]
        if value in (None, ""):
            return ""
        if isinstance(field, forms.ChoiceField):
            return str(dict(field.choices).get(value, value))  # type: ignore[arg-type]
        if isinstance(value, Decimal):
            return money_text(value, self.case.currency)
        if isinstance(value, datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def errors_only_for(self, names: set[str]) -> None:
        """Keep the errors of these fields (and the form's own); for checking one field as it changes."""
        for name in list(self.errors):
            if name not in names and name != NON_FIELD_ERRORS:
                del self.errors[name]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put ActionInvalid's messages next to the matching field, the rest above the form."""
        for field, messages in errors.items():
            for message in messages:
                if field in self.fields and not self.fields[field].widget.is_hidden:
                    self.add_error(field, message)
                else:
                    self.add_error(None, message)


# Stands for the agency reference in the welcome message until it is sent, so that the message
# says the reference the agent finally gave, not the one suggested when the form was drawn.
REFERENCE_PLACEHOLDER = "{agency_reference}"
FEE_FIELDS = ("interest_fees", "reminder_fees", "collection_fees")


def welcome_reference(*, case: Case, partner_reference: str) -> str:
    """What the welcome message calls the agency's reference: its own, else Debitura's."""
    return partner_reference or case.reference


class AcceptForm(ActionForm):
    name = "accept"
    title = "Accept the case"
    submit_label = "Accept…"
    confirm_question = "Accept the case? Debitura e-mails the welcome message to the creditor."

    partner_reference = forms.CharField(
        label="Agency reference", max_length=128, required=False, help_text="Cannot be changed later."
    )
    assigned_user_email = forms.ChoiceField(label="Assignee", required=False)
    welcome_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=10,
        max_length=5000,
        help_text="E-mailed to the creditor and posted in the case chat.",
    )
    interest_fees = amount_field("Interest", required=False)
    reminder_fees = amount_field("Reminder fees", required=False)
    collection_fees = amount_field("Collection fees", required=False)
    # The fees as the form was drawn: a fee still at that value was not touched, even if the
    # case's fee changed (a sync) between drawing and sending; it is not sent.
    interest_fees_drawn = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    reminder_fees_drawn = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    collection_fees_drawn = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def __init__(self, *args: Any, case: Case, team: list[TeamMember], **kwargs: Any) -> None:
        # The fees start from the case's: an accept changes only the fees the agent changes.
        initial = kwargs.setdefault("initial", {})
        for name in FEE_FIELDS:
            initial.setdefault(name, getattr(case, name))
            current = getattr(case, name)
            initial.setdefault(
                f"{name}_drawn", "" if current is None else str(amount_as_written(current, case.currency))
            )
        super().__init__(*args, case=case, **kwargs)
        field = self.fields["assigned_user_email"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Nobody yet")] + [(m.email, f"{m.name} <{m.email}>") for m in team]

    placeholder = REFERENCE_PLACEHOLDER
    rows = {FEE_FIELDS: "The case's fees now; an accept changes only a fee you change."}

    @property
    def welcome_reference(self) -> str:
        """What the placeholder reads with the reference as the form holds it now."""
        typed = self.data.get("partner_reference") if self.is_bound else self.initial.get("partner_reference")
        return welcome_reference(case=self.case, partner_reference=str(typed or "").strip())

    def clean_partner_reference(self) -> str:
        reference: str = self.cleaned_data["partner_reference"].strip()
        if reference and partner_reference_taken(reference, case=self.case):
            raise forms.ValidationError("Another case already has this agency reference.")
        return reference

    def _fee(self, name: str) -> Decimal | None:
        # None means "the case's current fee": empty, or the value the form was drawn with.
        value: Decimal | None = self.cleaned_data[name]
        if value is None:
            return None
        return None if value == self._drawn(name) else value

    def _drawn(self, name: str) -> Decimal | None:
        """The fee the form showed when drawn; the case's current one if the page did not say."""
        text = str(self.data.get(f"{name}_drawn", "")).strip() if self.is_bound else ""
        if AMOUNT_TEXT.fullmatch(text):
            try:
                return Decimal(text)
            except InvalidOperation:
                pass
        current: Decimal | None = getattr(self.case, name)
        return current

    def clean_interest_fees(self) -> Decimal | None:
        return self._fee("interest_fees")

    def clean_reminder_fees(self) -> Decimal | None:
        return self._fee("reminder_fees")

    def clean_collection_fees(self) -> Decimal | None:
        return self._fee("collection_fees")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        message = data.get("welcome_message")
        if message and "partner_reference" in data:
            # Kept with the action, so "edit and resend" gets the placeholder back, not the reference.
            data["welcome_template"] = message
            reference = welcome_reference(case=self.case, partner_reference=data["partner_reference"])
            data["welcome_message"] = message.replace(REFERENCE_PLACEHOLDER, reference)
            if len(data["welcome_message"]) > 5000:
                self.add_error("welcome_message", "With the reference filled in, it is over 5000 characters.")
        return data

    def summary_value(self, name: str, value: Any) -> str:
        if name in FEE_FIELDS and value is None:
            return f"{money_text(getattr(self.case, name), self.case.currency)} (unchanged)"
        return super().summary_value(name, value)


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


class ChatForm(ActionForm):
    name = "chat"
    title = "Message the creditor"
    submit_label = "Send…"
    confirm_question = "Send this message? Debitura e-mails it to the creditor."

    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


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


def agency_settings_for_accept() -> AgencySettings:
    """The agency settings, with `referenced` (cases with an agency reference) read in the same query."""
    referenced = (
        Case.objects.exclude(partner_reference="")
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = AgencySettings.objects.filter(pk=1).annotate(referenced=Coalesce(Subquery(referenced), 0)).first()
    # The first time ever, the row does not exist yet; suggesting counts the cases itself then.
    return found if found is not None else AgencySettings.load()


def partner_reference_suggest(*, case: Case, settings: AgencySettings, today: date | None = None) -> str:
    """The first unused reference the agency's pattern gives, counting on from the agency's cases."""
    today = today or timezone.localdate()
    referenced = getattr(settings, "referenced", None)
    if referenced is None:
        referenced = Case.objects.exclude(partner_reference="").count()
    start = referenced + 1
    try:
        candidates = [
            settings.reference_render(seq=seq, reference=case.reference, today=today)
            for seq in range(start, start + 50)
        ]
    except (ValueError, IndexError, KeyError, AttributeError):
        return ""  # a pattern saved around admin's checks: suggest nothing rather than fail the page
    taken = set(
        Case.objects.filter(partner_reference__in=candidates).values_list("partner_reference", flat=True)
    )
    taken |= set(
        OutboxAction.objects.filter(
            kind=OutboxAction.Kind.ACCEPT, payload__partner_reference__in=candidates
        ).values_list("payload__partner_reference", flat=True)
    )
    return next((c for c in candidates if c not in taken), "")


def welcome_message_for(
    *, case: Case, settings: AgencySettings, agency_reference: str, agent_name: str
) -> str:
    """The agency's welcome template filled in with this case's details."""
    return settings.welcome_render(
        {
            "reference": case.reference,
            "creditor_name": case.creditor_name,
            "creditor_reference": case.creditor_reference,
            "debtor_name": case.debtor_name,
            "principal": money_text(case.gross_amount, case.currency),
            "currency": case.currency,
            "agency_reference": agency_reference or case.reference,
            "agent_name": agent_name,
        }
    )
