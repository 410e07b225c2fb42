"""The agents' actions on a case: POST views that check a form, ask once more where the action
reaches the creditor or cannot be undone, and hand it to a service in cases/actions/, which
writes the outbox row. Nothing here talks to Debitura.

Each form works without JavaScript (a full page back, or a redirect after success); with htmx
the form swaps itself, and after success the polled part of the page is swapped out of band so
the new row shows as pending at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap

from cases.actions import (
    ActionInvalid,
    case_accept,
    case_chat_send,
    case_close,
    case_decline,
    case_fees_update,
    case_note_add,
)
from cases.forms import (
    AcceptForm,
    ActionForm,
    ChatForm,
    CloseForm,
    DeclineForm,
    FeesConsentForm,
    FeesForm,
    NoteForm,
)
from cases.models import Case, TeamMember
from cases.views import KEEP_PANEL, case_page_context, case_regions, welcome_reference_context
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest


def _act(
    request: HtmxHttpRequest,
    case: Case,
    form: ActionForm,
    send: Callable[[dict[str, Any]], OutboxAction],
    *,
    whole_panel: bool,
) -> HttpResponse:
    """Validate, confirm if the form asks for it, send; otherwise show the form again with its input.

    A POST with `check=<field>` (htmx, as the agent changes that field) only validates: the form
    comes back with that field's errors, nothing is confirmed or sent.
    """
    check = request.POST.get("check")
    if check:
        form.is_valid()
        form.errors_only_for({check})
    elif form.is_valid() and "edit" not in request.POST:
        if form.confirm and request.POST.get("confirmed") != "1":
            form.confirming = True
        else:
            try:
                action = send(form.cleaned_data)
            except ActionInvalid as exc:
                form.add_service_errors(exc.message_dict)
            else:
                return _queued(request, case, form, action, whole_panel=whole_panel)
    if request.htmx:
        return render(request, "cases/_action_form.html", {"case": case, "form": form})
    return render(request, "cases/case_detail.html", case_page_context(request, case, bound=form))


def _queued(
    request: HtmxHttpRequest, case: Case, form: ActionForm, action: OutboxAction, *, whole_panel: bool
) -> HttpResponse:
    url = reverse("cases:detail", args=[case.pk])
    if not request.htmx:
        messages.success(
            request, f"{action.get_kind_display()} queued: it shows as pending until Debitura has answered."
        )
        return HttpResponseRedirect(f"{url}#case-actions")  # after a POST, a GET: reload sends nothing
    if whole_panel:
        # The lifecycle changed (or a consent was answered): other forms apply now. Everything
        # comes out of band, the panel too, with the action's state where the agent acted.
        return reswap(HttpResponse(case_regions(request, case.pk, poller_oob=True)), "none")
    # The same form again, empty, and the rest of the page out of band: the action shows as
    # pending in its entry, the log and the head.
    fresh = form_empty(request, case, form.name)
    body = render_to_string("cases/_action_form.html", {"case": case, "form": fresh}, request=request)
    return HttpResponse(body + case_regions(request, case.pk, panel=KEEP_PANEL, poller_oob=True))


def form_empty(request: HtmxHttpRequest, case: Case, name: str) -> ActionForm:
    """A fresh form of the panel's kind `name` (new token), for after an action was queued."""
    makers = {"note": NoteForm, "chat": ChatForm, "fees": FeesForm}
    return makers[name](case=case)


def _case(case_id: str) -> Case:
    return get_object_or_404(Case, id=case_id)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_accept(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Accept a Pending Verification case: welcome message, agency reference, assignee, fees."""
    case = _case(case_id)
    team = list(TeamMember.objects.filter(active=True).order_by("name"))
    form = AcceptForm(request.POST, case=case, team=team)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_accept(
            case=case,
            actor=request.user,
            welcome_message=data["welcome_message"],
            welcome_template=data.get("welcome_template", ""),
            partner_reference=data["partner_reference"],
            assigned_user_email=data["assigned_user_email"] or None,
            interest_fees=data["interest_fees"],
            reminder_fees=data["reminder_fees"],
            collection_fees=data["collection_fees"],
            token=data["token"],
        )

    return _act(request, case, form, send, whole_panel=True)


@require_GET
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def accept_reference(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """What the welcome message's reference placeholder reads with the reference typed so far."""
    case = _case(case_id)
    typed = request.GET.get("partner_reference", "").strip()[:128]
    return render(request, "cases/_welcome_reference.html", welcome_reference_context(case, typed))


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_decline(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Decline a Pending Verification case with a reason category and an explanation."""
    case = _case(case_id)
    form = DeclineForm(request.POST, case=case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_decline(
            case=case, actor=request.user, reason=data["reason"], text=data["text"], token=data["token"]
        )

    return _act(request, case, form, send, whole_panel=True)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_close(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Close a case with Debitura's close code (payment rules checked by the service)."""
    case = _case(case_id)
    form = CloseForm(request.POST, case=case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_close(
            case=case,
            actor=request.user,
            close_code=data["close_code"],
            comment=data["comment"].strip(),
            token=data["token"],
        )

    return _act(request, case, form, send, whole_panel=True)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_note(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Add a note, optionally back-dated."""
    case = _case(case_id)
    form = NoteForm(request.POST, case=case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_note_add(
            case=case,
            actor=request.user,
            description=data["description"],
            event_date=data["event_date"],
            token=data["token"],
        )

    return _act(request, case, form, send, whole_panel=False)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_chat(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Send a chat message to the creditor."""
    case = _case(case_id)
    form = ChatForm(request.POST, case=case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_chat_send(case=case, actor=request.user, message=data["message"], token=data["token"])

    return _act(request, case, form, send, whole_panel=False)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_fees(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Replace the case's fees (and optionally correct its principal)."""
    case = _case(case_id)
    form = FeesForm(request.POST, case=case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return case_fees_update(
            case=case,
            actor=request.user,
            interest_fees=data["interest_fees"],
            reminder_fees=data["reminder_fees"],
            collection_fees=data["collection_fees"],
            gross_amount=data["gross_amount"],
            token=data["token"],
        )

    return _act(request, case, form, send, whole_panel=False)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def action_fees_consent(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Resend a fee change Debitura asked about, as a new action with the agent's choice of rate."""
    case = _case(case_id)
    try:
        refused_id = uuid.UUID(request.POST.get("action", ""))
    except ValueError:
        refused = None  # the form says so next to the field
    else:
        refused = OutboxAction.objects.filter(pk=refused_id, case=case, kind=OutboxAction.Kind.FEES).first()
    form = FeesConsentForm(request.POST, case=case, refused=refused)

    def send(data: dict[str, Any]) -> OutboxAction:
        refused = OutboxAction.objects.filter(
            pk=data["action"], case=case, kind=OutboxAction.Kind.FEES, state=OutboxAction.State.FAILED
        ).first()
        if refused is None:
            raise ActionInvalid(
                {"__all__": "That fee change is no longer waiting for a choice; reload the page."}
            )
        p = refused.payload
        return case_fees_update(
            case=case,
            actor=request.user,
            interest_fees=Decimal(p["interest_fees"]),
            reminder_fees=Decimal(p["reminder_fees"]),
            collection_fees=Decimal(p["collection_fees"]),
            gross_amount=Decimal(p["gross_amount"]) if p.get("gross_amount") is not None else None,
            confirm_price_change=data["choice"] == FeesConsentForm.CONFIRM,
            keep_intentional_rate=data["choice"] == FeesConsentForm.KEEP,
            token=data["token"],
        )

    return _act(request, case, form, send, whole_panel=True)
