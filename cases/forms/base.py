"""What every action form on the case page shares: the token, the confirmation step, amounts in
the case's currency, the date floor, and the service's errors put next to their fields.

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
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone

from cases.models import Case
from outbox.models import OutboxAction
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


# The case's three fees, drawn in one row by the accept and the fees form.
FEE_FIELDS = ("interest_fees", "reminder_fees", "collection_fees")
