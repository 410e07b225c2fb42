"""The accept form, with what it is drawn from: the suggested agency reference and the welcome message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.actions import partner_reference_taken
from cases.forms.base import AMOUNT_TEXT, FEE_FIELDS, ActionForm, amount_field
from cases.models import Case, TeamMember
from outbox.models import OutboxAction
from partnerportal.models import AgencySettings
from partnerportal.money import amount_as_written, money_text

# Stands for the agency reference in the welcome message until it is sent, so that the message
# says the reference the agent finally gave, not the one suggested when the form was drawn.
REFERENCE_PLACEHOLDER = "{agency_reference}"


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
