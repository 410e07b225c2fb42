"""The "Submit case" form: exactly the fields of Debitura's CreateManagedCaseRequest, checked as
its description says, each problem next to its field. A field left empty is not sent."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms

from debitura.enums import DebtorType
from debitura.types import ManagedCaseInput, ManagedDebtor
from partnerportal.money import fits_currency, minor_units

# Limits from the request schema.
TEXT_MAX = 4000
CREDITOR_REFERENCE_MAX = 50
TAG_MAX = 100
# Offered in the currency box (any ISO 4217 code may be typed).
COMMON_CURRENCIES = ("EUR", "USD", "GBP", "DKK", "SEK", "NOK", "CHF", "PLN", "CAD", "AUD", "JPY")


def _text(max_length: int = 300, **kwargs: Any) -> forms.CharField:
    return forms.CharField(max_length=max_length, required=kwargs.pop("required", False), **kwargs)


def _code(
    length: int, label: str, help_text: str, *, required: bool = False, **attrs: str
) -> forms.CharField:
    field = forms.RegexField(
        regex=rf"^[A-Za-z]{{{length}}}$",
        max_length=length,
        required=required,
        label=label,
        help_text=help_text,
        error_messages={"invalid": f"Enter the {length}-letter code, e.g. {attrs.pop('example')}."},
    )
    field.widget.attrs.update({"autocomplete": "off", "size": str(length + 2), **attrs})
    return field


class ManagedCaseForm(forms.Form):
    """A case to submit for a client (or the agency itself), with the form's one-time token."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=255)

    # The creditor: who the debtor owes.
    creditor_company_name = _text(required=True, label="Creditor company")
    creditor_country_alpha2 = _code(2, "Creditor country code", "ISO 3166-1, e.g. DK.", example="DK")
    creditor_country = _text(100, label="or creditor country name")
    creditor_reference = _text(
        CREDITOR_REFERENCE_MAX,
        label="Creditor's reference",
        help_text="The client's own, e.g. the invoice number.",
    )

    # The claim.
    currency_code = _code(
        3, "Currency", "ISO 4217, e.g. EUR.", required=True, example="EUR", list="managed-currencies"
    )
    amount_to_recover = forms.DecimalField(
        label="Amount to recover", max_digits=20, decimal_places=4, min_value=Decimal("0.01")
    )
    date = forms.DateField(label="Invoice date", widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    claim_description = _text(
        TEXT_MAX,
        label="Claim description",
        help_text="The services or goods delivered.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    comments = _text(
        TEXT_MAX,
        label="Comments",
        help_text="Payment attempts, contact so far: what the collection partner should know.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # The debtor.
    debtor_type = forms.ChoiceField(
        label="Debtor is a",
        choices=[(t.value, t.value) for t in DebtorType],
        widget=forms.RadioSelect,
        initial=DebtorType.COMPANY.value,
    )
    debtor_name = _text(
        required=True, label="Debtor name", help_text="Company name, or the person's full name."
    )
    debtor_contact_person = _text(label="Contact person", help_text="Required for a company.")
    debtor_company_registration_number = _text(
        100, label="Registration number", help_text="VAT, CVR, org. number…"
    )
    debtor_address = _text(500, label="Address")
    debtor_zip_code = _text(32, label="Postal code")
    debtor_city = _text(200, label="City")
    debtor_state = _text(200, label="State or region")
    debtor_state_alpha2 = _text(
        100,
        label="US state",
        help_text="Required for a debtor in the United States: CA, US-CA or California.",
    )
    debtor_country_alpha2 = _code(2, "Debtor country code", "ISO 3166-1, e.g. DE.", example="DE")
    debtor_country = _text(100, label="or debtor country name")
    debtor_email = forms.EmailField(label="E-mail", required=False, max_length=254)
    debtor_phone = _text(64, label="Phone", help_text="With the country code.")

    # How Debitura treats it.
    is_test = forms.BooleanField(
        label="Test case",
        required=False,
        help_text="Kept apart from production figures; can be deleted by tag.",
    )
    tag = _text(TAG_MAX, label="Test tag", help_text="Groups test cases, e.g. a test run's name.")
    collection_partner_id = forms.UUIDField(
        label="Collection partner id",
        required=False,
        help_text="Leave empty to let Debitura choose the partner for the debtor's country.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def clean_creditor_country_alpha2(self) -> str:
        return str(self.cleaned_data.get("creditor_country_alpha2") or "").upper()

    def clean_debtor_country_alpha2(self) -> str:
        return str(self.cleaned_data.get("debtor_country_alpha2") or "").upper()

    def clean_currency_code(self) -> str:
        return str(self.cleaned_data.get("currency_code") or "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("creditor_country_alpha2") or data.get("creditor_country")):
            self._problem("creditor_country_alpha2", "Enter the creditor's country: its code or its name.")
        if not (data.get("debtor_country_alpha2") or data.get("debtor_country")):
            self._problem("debtor_country_alpha2", "Enter the debtor's country: its code or its name.")
        if data.get("debtor_type") == DebtorType.COMPANY.value and not data.get("debtor_contact_person"):
            self._problem("debtor_contact_person", "A company debtor needs a contact person.")
        in_us = data.get("debtor_country_alpha2") == "US" or (
            data.get("debtor_country") or ""
        ).strip().lower() in (
            "united states",
            "united states of america",
            "usa",
        )
        if in_us and not data.get("debtor_state_alpha2"):
            self._problem("debtor_state_alpha2", "A debtor in the United States needs its state.")
        if data.get("date") and data.get("due_date") and data["due_date"] < data["date"]:
            self._problem("due_date", "The due date cannot be before the invoice date.")
        amount, currency = data.get("amount_to_recover"), data.get("currency_code")
        if amount is not None and currency and not fits_currency(amount, currency):
            places = minor_units(currency)
            self._problem(
                "amount_to_recover",
                f"{currency} amounts have {places} decimal{'s' if places != 1 else ''} at most.",
            )
        if data.get("tag") and not data.get("is_test"):
            self._problem("tag", "A tag is only for test cases: tick Test case or leave the tag empty.")
        return data

    def _problem(self, field: str, message: str) -> None:
        if field not in self.errors:
            self.add_error(field, message)

    def case(self) -> ManagedCaseInput:
        """The case to submit; empty fields are None, which the gateway leaves out of the request."""
        d = self.cleaned_data

        def given(name: str) -> Any:
            value = d.get(name)
            return value if value not in ("", None) else None

        partner = given("collection_partner_id")
        return ManagedCaseInput(
            creditor_company_name=d["creditor_company_name"],
            creditor_country_alpha2=given("creditor_country_alpha2"),
            creditor_country=given("creditor_country"),
            currency_code=d["currency_code"],
            date=d["date"],
            due_date=given("due_date"),
            amount_to_recover=d["amount_to_recover"],
            comments=given("comments"),
            claim_description=given("claim_description"),
            creditor_reference=given("creditor_reference"),
            is_test=bool(d.get("is_test")),
            tag=given("tag"),
            collection_partner_id=str(partner) if partner else None,
            debtor=ManagedDebtor(
                type=DebtorType(d["debtor_type"]),
                name=d["debtor_name"],
                contact_person=given("debtor_contact_person"),
                company_registration_number=given("debtor_company_registration_number"),
                address=given("debtor_address"),
                zip_code=given("debtor_zip_code"),
                city=given("debtor_city"),
                state=given("debtor_state"),
                state_alpha2=given("debtor_state_alpha2"),
                country_alpha2=given("debtor_country_alpha2"),
                country=given("debtor_country"),
                email=given("debtor_email"),
                phone=given("debtor_phone"),
            ),
        )

    @classmethod
    def initial_from(cls, case: ManagedCaseInput) -> dict[str, Any]:
        """The form's values for a case submitted before (to correct a refused one and send it again)."""
        values: dict[str, Any] = {
            name: getattr(case, name)
            for name in (
                "creditor_company_name",
                "creditor_country_alpha2",
                "creditor_country",
                "creditor_reference",
                "currency_code",
                "amount_to_recover",
                "date",
                "due_date",
                "claim_description",
                "comments",
                "is_test",
                "tag",
                "collection_partner_id",
            )
        }
        for name in ManagedDebtor.__struct_fields__:
            value = getattr(case.debtor, name)
            values[f"debtor_{name}"] = value.value if isinstance(value, DebtorType) else value
        return {k: v for k, v in values.items() if v is not None}
