"""Case pages: the list and the case page, read from the local copy (never from Debitura)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from cases.actions import (
    DEBITURA_PORTAL_URL,
    OPEN_STATES,
    WORKABLE,
    case_custom_terms_reason,
    case_effective_lifecycle,
)
from cases.documents import case_uploads_shown
from cases.forms import (
    REFERENCE_PLACEHOLDER,
    AcceptForm,
    ActionForm,
    ChatForm,
    CloseForm,
    DeclineForm,
    DocumentUploadForm,
    FeesConsentForm,
    FeesForm,
    NoteForm,
    agency_settings_for_accept,
    partner_reference_suggest,
    welcome_message_for,
    welcome_reference,
)
from cases.models import Case, LifecycleChoices, OutboxAction, TeamMember
from cases.sync import case_children_request
from cases.team import team_member_for
from cases.unread import case_chat_seen
from partnerportal.http import HtmxHttpRequest
from partnerportal.templatetags.portal import external_url
from payments.forms import payment_form_for_case


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_detail(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """One case: the money, the parties, what happened, and the agency's actions on their way."""
    case = get_object_or_404(Case.objects.select_related("assigned_to"), id=case_id)
    if case.first_opened_at is None:
        Case.objects.filter(id=case.id, first_opened_at__isnull=True).update(first_opened_at=timezone.now())
    refreshing = case_children_request(case=case)
    case_chat_seen(case=case, user=request.user)
    return render(request, "cases/case_detail.html", case_page_context(request, case, refreshing=refreshing))


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_children(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """The case's children and actions; polled by the case page until a queued refresh lands."""
    case = get_object_or_404(Case, id=case_id)
    context = {"case": case, "refreshing": case.children_stale, "poll": True, **case_children_context(case)}
    response = render(request, "cases/_case_children.html", context)
    if not case.children_stale and not context["open_actions"]:
        # Nothing more will change by itself: tell htmx to stop polling (286) with the final HTML.
        stop = HttpResponseStopPolling()
        stop.content = response.content
        return stop
    return response


# What an open accept, decline or close makes the header say until Debitura has answered.
PENDING_LABELS = {
    OutboxAction.Kind.ACCEPT: "Accept pending",
    OutboxAction.Kind.DECLINE: "Decline pending",
    OutboxAction.Kind.CLOSE: "Close pending",
}


def case_children_context(case: Case) -> dict[str, Any]:
    """Everything the polled part of the page shows: children, money paid, actions and their states."""
    # The newest 20, plus any older one still on its way (25 files sent at once all show).
    newest = case.actions.order_by("-created_at").values("pk")[:20]
    actions = list(
        case.actions.filter(Q(pk__in=newest) | Q(state__in=OPEN_STATES))
        .select_related("actor")
        .order_by("-created_at")
    )
    payments = list(case.payments.select_related("action").order_by("-date", "-id"))
    open_actions = [a for a in actions if a.state in OPEN_STATES]
    lifecycle = case_effective_lifecycle(case=case)
    owed = case.gross_amount + case.interest_fees + case.reminder_fees + case.collection_fees
    # Only a children refresh writes these rows (and stamps children_synced_at): a case never
    # refreshed has none, so its page skips their queries.
    fetched = case.children_synced_at is not None
    chat_messages = list(case.chat_messages.order_by("date_created")) if fetched else []
    files = list(case.files.select_related("uploaded_by").order_by("-date_created")) if fetched else []
    return {
        "timeline": list(case.timeline.order_by("-date", "-position")[:100]) if fetched else [],
        "chat_messages": chat_messages,
        "unread_count": sum(1 for m in chat_messages if m.is_unread),
        "payments": payments,
        "paid": owed - case.remainder,
        "files": files,
        "uploads": case_uploads_shown(actions=actions, files=files),
        "extensions": list(case.exclusivity_extensions.order_by("position")) if fetched else [],
        "exclusive_days_left": _days_left(case.exclusive_period_end),
        # Only a case that needs info has items: skip the query for the rest.
        "validation_items": list(case.validation_items.all()) if fetched and case.needs_info else [],
        "actions": actions,
        "open_actions": open_actions,
        "failed_actions": [a for a in actions if a.state == OutboxAction.State.FAILED],
        "lifecycle": lifecycle,
        "lifecycle_label": next(
            (PENDING_LABELS[OutboxAction.Kind(a.kind)] for a in open_actions if a.kind in PENDING_LABELS),
            LifecycleChoices(lifecycle).label if lifecycle in LifecycleChoices.values else lifecycle,
        ),
        "consent": fees_consent_pending(actions),
    }


def fees_consent_pending(actions: list[OutboxAction]) -> OutboxAction | None:
    """The newest fee change Debitura refused until the agent chooses a rate, unless one came after it."""
    for action in actions:  # newest first
        if action.kind != OutboxAction.Kind.FEES:
            continue
        body = action.response if isinstance(action.response, dict) else {}
        if action.state == OutboxAction.State.FAILED and body.get("confirmation_required"):
            return action
        return None
    return None


def case_page_context(
    request: HtmxHttpRequest,
    case: Case,
    *,
    refreshing: bool = False,
    bound: ActionForm | None = None,
) -> dict[str, Any]:
    """The whole case page; `bound` replaces the empty form of its kind (errors, confirmation)."""
    children = case_children_context(case)
    context: dict[str, Any] = {"case": case, "refreshing": refreshing, **children}
    if request.user.has_perm("accounts.work_cases"):
        context.update(
            action_forms(
                request, case, lifecycle=children["lifecycle"], consent=children["consent"], bound=bound
            )
        )
        context["payment_form"] = payment_form_for_case(
            case=case, workable=children["lifecycle"] in WORKABLE, bound=bound
        )
    if request.user.has_perm("accounts.work_cases") and children["lifecycle"] != LifecycleChoices.MERGED:
        context["upload_form"] = DocumentUploadForm()  # Debitura refuses files only on merged cases
    return context


def action_forms(
    request: HtmxHttpRequest,
    case: Case,
    *,
    lifecycle: str,
    consent: OutboxAction | None,
    bound: ActionForm | None = None,
) -> dict[str, Any]:
    """The action forms the case's (effective) lifecycle allows, empty unless `bound` is one of them."""
    forms: dict[str, ActionForm] = {}
    custom_terms = None
    if lifecycle == LifecycleChoices.PENDING_VERIFICATION:
        custom_terms = case_custom_terms_reason(case=case)
        if not custom_terms:
            forms["accept"] = bound if bound and bound.name == "accept" else accept_form_empty(request, case)
        forms["decline"] = DeclineForm(case=case)
    elif lifecycle in WORKABLE:
        forms["note"] = NoteForm(case=case)
        forms["chat"] = ChatForm(case=case)
        forms["fees"] = FeesForm(case=case)
        forms["close"] = CloseForm(case=case)
        if consent is not None:
            forms["fees_consent"] = FeesConsentForm(
                case=case, refused=consent, initial={"action": consent.pk}
            )
    if bound is not None and bound.name in forms:
        forms[bound.name] = bound
    return {
        "forms": forms,
        "custom_terms": custom_terms,
        # Debitura's link for this case only when it is a web address; else its portal's front page.
        "debitura_url": external_url(case.solution_url) or DEBITURA_PORTAL_URL,
    }


def accept_form_empty(request: HtmxHttpRequest, case: Case) -> AcceptForm:
    """The accept form pre-filled: suggested reference, the agency's welcome text, the agent as assignee."""
    settings = agency_settings_for_accept()
    team = list(TeamMember.objects.filter(active=True).order_by("name"))
    mine = team_member_for(user=request.user)
    reference = partner_reference_suggest(case=case, settings=settings)
    user = request.user
    full_name = user.get_full_name() if user.is_authenticated else ""
    agent_name = (mine.name if mine else "") or full_name or user.get_username()
    # The reference stays a placeholder in the text until it is sent (AcceptForm.clean).
    welcome = welcome_message_for(
        case=case, settings=settings, agency_reference=REFERENCE_PLACEHOLDER, agent_name=agent_name
    )
    return AcceptForm(
        case=case,
        team=team,
        initial={
            "welcome_message": welcome,
            "partner_reference": reference,
            "assigned_user_email": mine.email if mine else "",
        },
    )


def welcome_reference_context(case: Case, partner_reference: str) -> dict[str, Any]:
    """The accept form's line that says what the welcome message's placeholder becomes."""
    return {
        "case": case,
        "placeholder": REFERENCE_PLACEHOLDER,
        "reference": welcome_reference(case=case, partner_reference=partner_reference),
    }


def _days_left(end: datetime | None) -> int | None:
    if end is None:
        return None
    return (end - timezone.now()).days
