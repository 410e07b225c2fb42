"""Forms for the agents' actions on the case page; the services in cases/actions.py decide.

Every form carries a hidden idempotency token, fresh each time the form is rendered empty and
kept through the confirmation step, so a double submit reaches the service twice with one token.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.actions import DeclineReason, partner_reference_taken
from cases.models import DOCUMENT_TYPE_LABELS, Case, CloseCodeChoices, OutboxAction, TeamMember
from debitura.validation import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES
from partnerportal.models import AgencySettings
from partnerportal.templatetags.portal import money


def amount_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    """An amount in the case's currency: Decimal, never negative."""
    return forms.DecimalField(
        label=label,
        required=required,
        help_text=help_text,
        max_digits=20,
        decimal_places=4,
        min_value=Decimal(0),
    )


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

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.name}_%s")
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.case = case
        self.confirming = False

    @property
    def url_name(self) -> str:
        return f"cases:{self.name}"

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation step repeats back, as label and display value."""
        rows = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if field.widget.is_hidden or value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)  # type: ignore[arg-type]
            elif isinstance(value, Decimal):
                value = money(value, self.case.currency)
            elif isinstance(value, datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            rows.append((str(field.label), str(value)))
        return rows

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put ActionInvalid's messages next to the matching field, the rest above the form."""
        for field, messages in errors.items():
            for message in messages:
                if field in self.fields and not self.fields[field].widget.is_hidden:
                    self.add_error(field, message)
                else:
                    self.add_error(None, message)


class AcceptForm(ActionForm):
    name = "accept"
    title = "Accept the case"
    submit_label = "Accept…"
    confirm_question = "Accept the case? Debitura e-mails the welcome message to the creditor."

    welcome_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        min_length=10,
        max_length=5000,
        help_text="E-mailed to the creditor and posted in the case chat.",
    )
    partner_reference = forms.CharField(
        label="Agency reference", max_length=128, required=False, help_text="Cannot be changed later."
    )
    assigned_user_email = forms.ChoiceField(label="Assignee", required=False)
    interest_fees = amount_field("Interest", required=False)
    reminder_fees = amount_field("Reminder fees", required=False)
    collection_fees = amount_field("Collection fees", required=False)

    def __init__(self, *args: Any, case: Case, team: list[TeamMember], **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        field = self.fields["assigned_user_email"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Nobody yet")] + [(m.email, f"{m.name} <{m.email}>") for m in team]

    def clean_partner_reference(self) -> str:
        reference: str = self.cleaned_data["partner_reference"].strip()
        if reference and partner_reference_taken(reference, case=self.case):
            raise forms.ValidationError("Another case already has this agency reference.")
        return reference


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
        label="Close code", choices=[c for c in CloseCodeChoices.choices if c[0] != CloseCodeChoices.UNKNOWN]
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Needed with Other.",
    )

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

    def clean_event_date(self) -> Any:
        moment = self.cleaned_data["event_date"]
        if moment is not None and moment > timezone.now():
            raise forms.ValidationError("Cannot be in the future.")
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
            "principal": money(case.gross_amount, case.currency),
            "currency": case.currency,
            "agency_reference": agency_reference or case.reference,
            "agent_name": agent_name,
        }
    )


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """One or more files from a single <input type=file multiple>."""

    widget = _MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        if not items and self.required:
            raise forms.ValidationError("Choose at least one file.", code="required")
        return [super(_MultipleFileField, self).clean(item, initial) for item in items]


class DocumentUploadForm(forms.Form):
    """Files for the case with a document type and description (per file with JavaScript, else shared)."""

    MAX_FILES = 10
    MAX_BYTES = MAX_UPLOAD_BYTES  # for the page's script, which spares sending a file too large

    documents = _MultipleFileField(
        label="Files",
        widget=_MultipleFileInput(attrs={"multiple": True, "accept": ",".join(sorted(ALLOWED_EXTENSIONS))}),
        help_text="PDF, Word, Excel, PNG or JPEG images, text, CSV, e-mail (.eml) or zip; 25 MB at most.",
    )
    document_type = forms.ChoiceField(
        label="Document type",
        required=False,
        choices=[("", "Uncategorised"), *DOCUMENT_TYPE_LABELS.items()],
    )
    description = forms.CharField(
        label="Description", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "upload_%s")
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        # Per file: what was refused (name, message) and what was queued, shown under the form.
        self.refused: list[tuple[str, str]] = []

    def clean_documents(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["documents"]
        if len(files) > self.MAX_FILES:
            raise forms.ValidationError(f"At most {self.MAX_FILES} files at once.")
        return files
