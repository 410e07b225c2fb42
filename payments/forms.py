"""Forms for recording and correcting payments, and the ledger's filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from cases.forms import ActionForm, AmountField
from cases.models import Case
from outbox.models import OutboxAction
from partnerportal.money import money_text
from payments.models import Payment

PAYOUT_TOLERANCE = Decimal("0.01")

RECIPIENT_CHOICES = [
    (Payment.Recipient.COLLECTION_PARTNER, "The agency (us)"),
    (Payment.Recipient.CREDITOR, "The creditor"),
    (Payment.Recipient.PLATFORM, "Debitura"),
]
COMMISSION_CHOICES = [
    (Payment.CommissionStatus.PAID, "Paid: the creditor has already paid us our fee on this money"),
    (Payment.CommissionStatus.UNPAID, "Unpaid: the creditor still owes us our fee on this money"),
]


def _amount(label: str, *, required: bool, help_text: str = "", minimum: str = "0.01") -> AmountField:
    return AmountField(label=label, required=required, help_text=help_text, minimum=Decimal(minimum))


class PaymentFieldsForm(ActionForm):
    """A payment's values as Debitura takes them; the split override is both or neither."""

    confirm = False  # asked only when a guard fires (above the remainder, a likely duplicate)
    confirm_question = "Please confirm"

    date = forms.DateField(
        label="Payment date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When the money was received; never in the future.",
    )
    amount = _amount("Amount", required=True)
    recipient = forms.ChoiceField(
        label="Who received the money", choices=RECIPIENT_CHOICES, widget=forms.RadioSelect
    )
    commission_status = forms.ChoiceField(
        label="Our commission",
        required=False,
        choices=COMMISSION_CHOICES,
        widget=forms.RadioSelect,
        help_text="Only when the creditor received the money: has the creditor paid the agency its fee "
        "on it yet? When we or Debitura received it, the fee counts as paid.",
    )
    payout_creditor = _amount("To the creditor", required=False, minimum="0")
    payout_partner = _amount("To the agency", required=False, minimum="0")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("date", timezone.localdate())
        super().__init__(*args, case=case, **kwargs)
        self.guard_warnings: list[str] = []
        for name in ("amount", "payout_creditor", "payout_partner"):
            self.fields[name].label = f"{self.fields[name].label} ({case.currency})"
        self._date_floor("date")

    def clean_date(self) -> Any:
        when = self.cleaned_data["date"]
        if when is not None and when > timezone.localdate():
            raise forms.ValidationError("Cannot be in the future.")
        self._check_floor(when)
        return when

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("recipient") == Payment.Recipient.CREDITOR:
            if not data.get("commission_status"):
                self.add_error("commission_status", "Say whether the creditor has paid our fee on it.")
        else:
            data["commission_status"] = ""
        creditor, partner = data.get("payout_creditor"), data.get("payout_partner")
        if (creditor is None) != (partner is None):
            self.add_error("payout_creditor", "Give both parts of the split, or neither.")
        elif (
            creditor is not None
            and partner is not None
            and data.get("amount") is not None
            and abs(creditor + partner - data["amount"]) > PAYOUT_TOLERANCE
        ):
            currency = self.case.currency
            self.add_error(
                "payout_creditor",
                f"The two parts add up to {money_text(creditor + partner, currency)}, "
                f"not the amount {money_text(data['amount'], currency)}.",
            )
        return data

    def summary_value(self, name: str, value: Any) -> str:
        if name == "close_case":
            return "Yes" if value else ""
        return super().summary_value(name, value)

    @property
    def split_open(self) -> bool:
        """Whether the advanced split shows unfolded (the agent used it, or it has an error)."""
        return bool(
            self.is_bound
            and (
                self.data.get("payout_creditor")
                or self.data.get("payout_partner")
                or self.errors.get("payout_creditor")
                or self.errors.get("payout_partner")
            )
        )

    def payment_fields(self) -> dict[str, Any]:
        """The cleaned values as the payment services take them."""
        data = self.cleaned_data
        return {
            "date": data["date"],
            "amount": data["amount"],
            "recipient": data["recipient"],
            "commission_status": data["commission_status"] or None,
            "payout_creditor": data["payout_creditor"],
            "payout_partner": data["payout_partner"],
        }


class PaymentRecordForm(PaymentFieldsForm):
    name = "payment"
    title = "Record a payment"
    submit_label = "Record payment"

    close_case = forms.BooleanField(
        label="Close the case as Paid if this settles it",
        required=False,
        help_text="A partial payment is recorded and the case stays open.",
    )

    @property
    def url_name(self) -> str:
        return "payments:record"


class PaymentCorrectForm(PaymentFieldsForm):
    name = "payment_correct"
    title = "Correct the payment"
    submit_label = "Save the correction"

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        # The split starts empty: Debitura's computed split would no longer add up once the amount
        # changes, and sending it would turn it into an explicit override.
        for name in ("date", "recipient", "commission_status"):
            initial.setdefault(name, getattr(payment, name))
        initial.setdefault("amount", payment.amount)
        super().__init__(*args, case=payment.case, **kwargs)
        self.payment = payment
        for name in ("payout_creditor", "payout_partner"):
            self.fields[name].help_text = "Leave both empty and Debitura computes the split again."


class PaymentDeleteForm(ActionForm):
    name = "payment_delete"
    title = "Delete the payment"
    submit_label = "Delete the payment…"
    confirm_question = "Delete this payment at Debitura? Its effect on the balance is reverted."


class PaymentConsentForm(ActionForm):
    name = "payment_consent"
    title = "Debitura asks to reopen the case"
    submit_label = "Resend and reopen the case"
    confirm = False  # the button is the consent Debitura asked for

    action = forms.UUIDField(widget=forms.HiddenInput)


def payment_consent_pending(payment: Payment) -> OutboxAction | None:
    """The payment's last change, when Debitura refused it until the agent consents to reopening."""
    action = payment.action
    if action is None or action.state != OutboxAction.State.FAILED:
        return None
    if action.kind not in (OutboxAction.Kind.PAYMENT_UPDATE, OutboxAction.Kind.PAYMENT_DELETE):
        return None
    body = action.response if isinstance(action.response, dict) else {}
    return action if body.get("reopen_required") else None
