"""The case page's action panel: which actions the case's lifecycle allows now, one entry each, and
where each of the agent's actions stands (pending, done, failed in Debitura's words, what next).

The panel leads with what can be done now: a Pending Verification case offers Accept and Decline;
a case the agency works offers a note, a payment, fees, files and closing (the chat composer sits
under the chat); closed cases take files only, merged ones nothing. Each entry is a
`<details name="case-action">`, so one form is open at a time without JavaScript.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.actions import DEBITURA_PORTAL_URL, WORKABLE, case_custom_terms_reason
from cases.children import panel_entry
from cases.forms import (
    FEE_FIELDS,
    REFERENCE_PLACEHOLDER,
    AcceptForm,
    ActionForm,
    ChatForm,
    CloseForm,
    DeclineForm,
    FeesConsentForm,
    FeesForm,
    NoteForm,
    agency_settings_for_accept,
    partner_reference_suggest,
    welcome_message_for,
)
from cases.models import Case, LifecycleChoices, TeamMember
from cases.team import team_member_for
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest
from partnerportal.templatetags.portal import external_url

Kind = OutboxAction.Kind
State = OutboxAction.State
LIFECYCLE_KINDS = (Kind.ACCEPT, Kind.DECLINE, Kind.CLOSE)
# How long a finished action keeps saying so where the agent acted; failures stay until replaced.
DONE_SHOWN_FOR = timedelta(hours=12)

# The panel's form for each kind of action ("payment" is the payments app's entry, cases.children).
FORM_OF_KIND = {
    Kind.ACCEPT: "accept",
    Kind.DECLINE: "decline",
    Kind.CLOSE: "close",
    Kind.NOTE: "note",
    Kind.CHAT: "chat",
    Kind.FEES: "fees",
    Kind.PAYMENT_CREATE: "payment",
    Kind.FILE_UPLOAD: "upload",
}
KIND_OF_FORM = {name: kind for kind, name in FORM_OF_KIND.items()}
# What the panel says a finished action did, by kind.
DONE_WORDS = {
    Kind.ACCEPT: "Accepted",
    Kind.DECLINE: "Declined",
    Kind.CLOSE: "Closed",
    Kind.NOTE: "Note added",
    Kind.CHAT: "Message sent",
    Kind.FEES: "Fees updated",
    Kind.PAYMENT_CREATE: "Payment recorded",
    Kind.FILE_UPLOAD: "File sent",
}


@dataclass
class ActionState:
    """Where the newest action of one kind stands, as the panel words it."""

    action: OutboxAction
    resendable: bool  # its form is on the panel now, so "edit and resend" can fill it in

    @property
    def kind(self) -> str:
        return self.action.kind

    @property
    def item(self) -> str:
        """The panel entry whose form the action came from."""
        return FORM_OF_KIND[Kind(self.action.kind)]

    @property
    def state(self) -> str:
        return "pending" if self.action.state in (State.PENDING, State.SENDING) else self.action.state

    @property
    def label(self) -> str:
        """The badge: Pending, Failed, or what was done."""
        if self.state == "pending":
            return "Pending"
        if self.state == State.FAILED:
            return "Failed"
        if self.state == State.CANCELLED:
            return "Cancelled"
        return DONE_WORDS.get(Kind(self.action.kind), "Done")

    @property
    def retrying(self) -> bool:
        """Pending after a failed attempt (Debitura down or slow): the last error says when next."""
        return self.state == "pending" and self.action.attempts > 0 and bool(self.action.last_error)


def _shown(action: OutboxAction, now: datetime) -> bool:
    if action.state in (State.PENDING, State.SENDING, State.FAILED):
        return True
    return (action.done_at or action.updated_at) > now - DONE_SHOWN_FOR


def action_states(actions: list[OutboxAction], *, forms: set[str]) -> dict[str, ActionState]:
    """The newest action of each kind the panel reports on (from the page's newest-first list)."""
    now = timezone.now()
    states: dict[str, ActionState] = {}
    seen: set[str] = set()
    for action in actions:
        kind = Kind(action.kind)
        name = FORM_OF_KIND.get(kind)
        # Lifecycle actions share one line at the top of the panel.
        key = "lifecycle" if kind in LIFECYCLE_KINDS else name
        if name is None or key is None or key in seen:
            continue
        seen.add(key)  # only the newest counts: older ones are history, in the log
        if _shown(action, now):
            # A file cannot be put back into a file input: a failed upload is chosen again.
            resendable = name in forms and action.state == State.FAILED and kind != Kind.FILE_UPLOAD
            states[key] = ActionState(action, resendable=resendable)
    return states


def resend_initial(action: OutboxAction) -> dict[str, Any]:
    """A failed action's values as its form's initial data, so the agent can edit and resend it."""
    p = action.payload
    kind = Kind(action.kind)
    if kind == Kind.ACCEPT:
        reference = p.get("partner_reference") or ""
        # The message as the agent wrote it, with the placeholder a new reference fills in.
        message = p.get("welcome_template") or p.get("welcome_message", "")
        if reference and not p.get("welcome_template"):
            # An action queued before the template was kept: the reference as a word of its own
            # becomes the placeholder again (not "12" inside "2012").
            pattern = rf"(?<![\w-]){re.escape(reference)}(?![\w-])"
            message = re.sub(pattern, lambda _: REFERENCE_PLACEHOLDER, message)
        initial = {
            "welcome_message": message,
            "partner_reference": reference,
            "assigned_user_email": p.get("assigned_user_email") or "",
        }
        initial.update({name: Decimal(p[name]) for name in FEE_FIELDS if p.get(name) is not None})
        return initial
    if kind == Kind.DECLINE:
        return {"reason": p.get("reason", ""), "text": p.get("text", "")}
    if kind == Kind.CLOSE:
        return {"close_code": p.get("close_code", ""), "comment": p.get("comment", "")}
    if kind == Kind.NOTE:
        moment = parse_datetime(p["event_date"]) if p.get("event_date") else None
        return {
            "description": p.get("description", ""),
            "event_date": timezone.localtime(moment) if moment else None,
        }
    if kind == Kind.CHAT:
        return {"message": p.get("message", "")}
    if kind == Kind.FEES:
        names = (*FEE_FIELDS, "gross_amount")
        return {name: Decimal(p[name]) for name in names if p.get(name) is not None}
    other = panel_entry(FORM_OF_KIND.get(kind, ""))
    if other is not None:
        return other.initial(p)
    return {}


@dataclass
class PanelItem:
    """One entry of the panel: a details element with its summary, form and state."""

    name: str
    title: str
    form: ActionForm | None = None
    state: ActionState | None = None
    open: bool = False
    template: str = ""  # another app's entry draws its own form (cases.children.PanelEntry)


def accept_form_empty(
    request: HtmxHttpRequest, case: Case, *, initial: dict[str, Any] | None = None
) -> AcceptForm:
    """The accept form pre-filled: suggested reference, the agency's welcome text, the agent as assignee."""
    settings = agency_settings_for_accept()
    team = list(TeamMember.objects.filter(active=True).order_by("name"))
    # The member linked to the agent is in the list already; team_member_for finds the others.
    mine = next((m for m in team if m.user_id == request.user.pk), None) or team_member_for(user=request.user)
    user = request.user
    full_name = user.get_full_name() if user.is_authenticated else ""
    agent_name = (mine.name if mine else "") or full_name or user.get_username()
    # The reference stays a placeholder in the text until it is sent (AcceptForm.clean).
    welcome = welcome_message_for(
        case=case, settings=settings, agency_reference=REFERENCE_PLACEHOLDER, agent_name=agent_name
    )
    defaults = {
        "welcome_message": welcome,
        "partner_reference": partner_reference_suggest(case=case, settings=settings),
        "assigned_user_email": mine.email if mine else "",
    }
    return AcceptForm(case=case, team=team, initial={**defaults, **(initial or {})})


# The panel's entries in the order shown, with their titles; "chat" is the composer under the chat.
TITLES = {
    "fees_consent": FeesConsentForm.title,
    "accept": "Accept the case",
    "decline": "Decline the case",
    "note": "Add a note",
    "payment": "Record a payment",
    "promise": "Record a promise to pay",
    "fees": "Update fees",
    "upload": "Add files",
    "close": "Close the case",
    "chat": "Message the creditor",
}


def panel_names(*, case: Case, lifecycle: str, consent: bool) -> list[str]:
    """The actions the case's (effective) lifecycle allows now, in the panel's order."""
    if lifecycle == LifecycleChoices.PENDING_VERIFICATION:
        return ["decline"] if case_custom_terms_reason(case=case) else ["accept", "decline"]
    if lifecycle in WORKABLE:
        # Other apps' entries (payments, promises), when installed.
        others = [name for name in ("payment", "promise") if panel_entry(name)]
        return [*(["fees_consent"] if consent else []), "note", *others, "fees", "upload", "close", "chat"]
    if lifecycle == LifecycleChoices.CLOSED:
        return ["upload"]  # Debitura refuses files only on merged cases
    return []


def panel_key(names: list[str], *, consent: OutboxAction | None) -> str:
    """What decides the panel's forms: when it changes, the live page redraws the whole panel."""
    return f"{'.'.join(names)}:{consent.pk if consent else ''}"


def panel_states(
    *, case: Case, lifecycle: str, consent: OutboxAction | None, actions: list[OutboxAction]
) -> dict[str, Any]:
    """The panel's key and the state of each of its actions, without building any form."""
    names = panel_names(case=case, lifecycle=lifecycle, consent=consent is not None)
    states = action_states(actions, forms=set(names))
    return {
        "panel_key": panel_key(names, consent=consent),
        "panel_states": [(name, states.get(name)) for name in names if name != "chat"],
        "chat_state": states.get("chat"),
        # Whether the composer (and its state line) is on the page: not while the case takes no messages.
        "chat_composer": "chat" in names,
        "lifecycle_state": states.get("lifecycle"),
    }


def case_panel(
    request: HtmxHttpRequest,
    case: Case,
    *,
    lifecycle: str,
    consent: OutboxAction | None,
    actions: list[OutboxAction],
    bound: ActionForm | None = None,
    resend: OutboxAction | None = None,
) -> dict[str, Any]:
    """The panel's entries for the case's effective lifecycle, with `bound` (errors, confirmation)
    or `resend` (a failed action's values) in place of the empty form of its kind."""
    names = panel_names(case=case, lifecycle=lifecycle, consent=consent is not None)
    prefill = FORM_OF_KIND.get(Kind(resend.kind)) if resend is not None else None
    initial = resend_initial(resend) if resend is not None else {}
    makers: dict[str, Any] = {
        "accept": lambda i: accept_form_empty(request, case, initial=i),
        "decline": lambda i: DeclineForm(case=case, initial=i),
        "note": lambda i: NoteForm(case=case, initial=i),
        "fees": lambda i: FeesForm(case=case, initial=i),
        "close": lambda i: CloseForm(case=case, initial=i),
        "chat": lambda i: ChatForm(case=case, initial=i),
        "fees_consent": lambda i: FeesConsentForm(
            case=case, refused=consent, initial={"action": consent.pk if consent else None}
        ),
    }
    for name in names:
        other = panel_entry(name)
        if other is not None:
            makers[name] = functools.partial(other.form, case)
    forms: dict[str, ActionForm] = {}
    for name in names:
        if bound is not None and bound.name == name:
            forms[name] = bound
        elif name in makers:
            forms[name] = makers[name](initial if name == prefill else {})
    states = panel_states(case=case, lifecycle=lifecycle, consent=consent, actions=actions)
    by_name = dict(states["panel_states"])
    items = [
        PanelItem(
            name,
            TITLES[name],
            forms.get(name),
            by_name.get(name),
            # Open: what the agent is working on (errors, a confirmation, a resend); a new
            # assignment opens on Accept; Debitura's question about a fee change asks at once.
            open=(bound is not None and bound.name == name)
            or name == prefill
            or name in ("accept", "fees_consent"),
            template=other.template if (other := panel_entry(name)) else "",
        )
        for name in names
        if name != "chat"
    ]
    orphan = bound is not None and bound.name not in names
    return {
        **states,
        "panel_items": items,
        # A form sent for an action the case no longer allows (someone else was quicker).
        "panel_errors": [str(e) for errors in bound.errors.values() for e in errors]
        if orphan and bound
        else [],
        "chat_form": forms.get("chat"),
        "custom_terms": case_custom_terms_reason(case=case)
        if lifecycle == LifecycleChoices.PENDING_VERIFICATION
        else None,
        # Debitura's link for this case only when it is a web address; else its portal's front page.
        "debitura_url": external_url(case.solution_url) or DEBITURA_PORTAL_URL,
    }
