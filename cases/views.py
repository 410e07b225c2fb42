"""The case page, read from the local copy (never from Debitura), and its live updates.

The page is drawn in regions: the head (status, references, money, exclusivity), the action
panel (cases/panel.py), the chat, and the children below (timeline, actions, payments, files).
A poller asks cases:live every few seconds with the version stamp the page was drawn with
(cases/live.py); only when the stamp moved does it get the regions back, swapped out of band, so
a relay's answer, a sync or a webhook shows within seconds without a reload.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from cases.actions import OPEN_STATES, case_effective_lifecycle
from cases.children import case_tabs, child_parts
from cases.events import case_opened
from cases.forms import REFERENCE_PLACEHOLDER, ActionForm, welcome_reference
from cases.live import case_stamp
from cases.models import Case, LifecycleChoices
from cases.panel import case_panel, panel_states
from cases.sync import case_children_request
from cases.unread import case_chat_seen
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest

# What an open accept, decline or close makes the header say until Debitura has answered.
PENDING_LABELS = {
    OutboxAction.Kind.ACCEPT: "Accept pending",
    OutboxAction.Kind.DECLINE: "Decline pending",
    OutboxAction.Kind.CLOSE: "Close pending",
}
# How often an open page asks whether anything changed: sooner while something is on its way.
POLL_BUSY_SECONDS = 3
POLL_IDLE_SECONDS = 5


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_detail(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """One case: what can be done now, the money, the chat, what happened, and the actions on their way.

    `?resend=<action id>` fills the form of a failed action with its values to edit and resend.
    """
    case = get_object_or_404(Case.objects.select_related("assigned_to"), id=case_id)
    if case.first_opened_at is None:
        Case.objects.filter(id=case.id, first_opened_at__isnull=True).update(first_opened_at=timezone.now())
    # One insert at most, in the listener (the history app's view log), none without one.
    case_opened.send(sender=Case, case=case, user=request.user)
    refreshing = case_children_request(case=case)
    # An agent opening the case has read its messages; they show as new this once.
    new = case_chat_seen(case=case, user=request.user)
    resend = _resend(request, case)
    context = case_page_context(request, case, refreshing=refreshing, resend=resend)
    return render(request, "cases/case_detail.html", {**context, "chat_new": new})


def _resend(request: HtmxHttpRequest, case: Case) -> OutboxAction | None:
    try:
        action_id = uuid.UUID(request.GET.get("resend", ""))
    except ValueError:
        return None
    return case.actions.filter(pk=action_id, state=OutboxAction.State.FAILED).first()


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_live(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """The poller's question "has the case changed since stamp `v`?": 204 when not; else the
    regions, swapped out of band (the panel too when its forms change, `panel` being its key)."""
    stamp = case_stamp(case_id)
    if stamp is None:
        return HttpResponse(status=404)
    if stamp == request.GET.get("v"):
        return HttpResponse(status=204)
    # A message arriving on an agent's open page is read there: shown as new, counted as seen.
    case = get_object_or_404(Case, id=case_id)
    new = case_chat_seen(case=case, user=request.user)
    regions = case_regions(
        request, case_id, stamp=None if new else stamp, panel=request.GET.get("panel", ""), chat_new=new
    )
    # Anything else on the page that shows this case may listen (e.g. an unread count).
    return trigger_client_event(HttpResponse(regions), "case-changed", {"case": str(case_id)})


# The `panel` of case_regions for a caller that knows the panel's forms stay as they are.
KEEP_PANEL = "keep"


def case_regions(
    request: HtmxHttpRequest,
    case_id: Any,
    *,
    stamp: str | None = None,
    panel: str | None = None,
    poller_oob: bool = False,
    chat_new: list[str] | None = None,
) -> str:
    """The poller with the case's new stamp, then every region out of band. `panel` is the key of
    the action panel on screen: the whole panel is redrawn when its forms changed (or `panel` is
    None), else only each action's state, so a form being typed in and the open entry stay."""
    # The stamp before the content (read fresh here): a change in between shows next time.
    stamp = stamp or case_stamp(case_id)
    case = get_object_or_404(Case.objects.select_related("assigned_to"), id=case_id)
    children = case_children_context(case)
    context: dict[str, Any] = {
        "case": case,
        "oob": True,
        "poller_oob": poller_oob,
        "stamp": stamp,
        "chat_new": chat_new or [],
        "refreshing": case.children_stale,
        **children,
    }
    if request.user.has_perm("accounts.work_cases"):
        lifecycle, consent, actions = children["lifecycle"], children["consent"], children["actions"]
        states = panel_states(case=case, lifecycle=lifecycle, consent=consent, actions=actions)
        context["redraw_panel"] = panel != KEEP_PANEL and states["panel_key"] != panel
        # No form is built unless the panel is redrawn: they cost queries (the accept form most).
        context.update(_panel(request, case, children) if context["redraw_panel"] else states)
    return render_to_string("cases/_live.html", context, request=request)


def _panel(
    request: HtmxHttpRequest,
    case: Case,
    children: dict[str, Any],
    *,
    bound: ActionForm | None = None,
    resend: OutboxAction | None = None,
) -> dict[str, Any]:
    return case_panel(
        request,
        case,
        lifecycle=children["lifecycle"],
        consent=children["consent"],
        actions=children["actions"],
        bound=bound,
        resend=resend,
    )


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def unread_nav(request: HtmxHttpRequest) -> HttpResponse:
    """The navigation's count of unread creditor messages, asked again after a case changed."""
    return render(request, "cases/_nav_unread.html")


def case_children_context(case: Case) -> dict[str, Any]:
    """Everything the page shows besides the forms: children, money paid, actions and their states."""
    # The newest 20, plus any older one still on its way (25 files sent at once all show).
    newest = case.actions.order_by("-created_at").values("pk")[:20]
    actions = list(
        case.actions.filter(Q(pk__in=newest) | Q(state__in=OPEN_STATES))
        .select_related("actor")
        .order_by("-created_at")
    )
    # Other apps' sections (payments): their context, and their templates after the portal's actions.
    others: dict[str, Any] = {"case_sections": []}
    for part in child_parts():
        if part.page is not None:
            others.update(part.page(case))
        if part.template:
            others["case_sections"].append(part.template)
    open_actions = [a for a in actions if a.state in OPEN_STATES]
    lifecycle = case_effective_lifecycle(case=case, actions=actions)
    owed = case.gross_amount + case.interest_fees + case.reminder_fees + case.collection_fees
    # Only a children refresh writes these rows (and stamps children_synced_at): a case never
    # refreshed has none, so its page skips their queries.
    fetched = case.children_synced_at is not None
    chat_messages = list(case.chat_messages.order_by("date_created")) if fetched else []
    files = list(case.files.select_related("uploaded_by").order_by("-date_created")) if fetched else []
    return {
        "timeline": list(case.timeline.order_by("-date", "-position")[:100]) if fetched else [],
        "chat_messages": chat_messages,
        "chat_newest_first": chat_messages[::-1],
        # Unread by the one rule (ChatMessage.is_unread): viewers leave messages unread for agents.
        "unread_ids": [str(m.pk) for m in chat_messages if m.is_unread],
        "paid": owed - case.remainder,
        **others,
        "files": files,
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
        "poll_seconds": POLL_BUSY_SECONDS if open_actions or case.children_stale else POLL_IDLE_SECONDS,
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
    resend: OutboxAction | None = None,
) -> dict[str, Any]:
    """The whole case page; `bound` replaces the empty form of its kind (errors, confirmation)."""
    stamp = case_stamp(case.pk)  # before the content: a change in between shows next time
    children = case_children_context(case)
    context: dict[str, Any] = {
        "case": case,
        "refreshing": refreshing,
        "stamp": stamp,
        # Other apps' pages of the case (history), as tabs beside the case page itself.
        "case_tabs": [tab for tab in case_tabs() if request.user.has_perm(tab.permission)],
        **children,
    }
    if request.user.has_perm("accounts.work_cases"):
        context.update(_panel(request, case, children, bound=bound, resend=resend))
    return context


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
