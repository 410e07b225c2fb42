"""The built-in kinds of task, each derived from the local copy and the outbox in a few bulk queries.

Every source sees only cases the agency still has (not gone) and that are not Debitura test
cases (tasks_refresh passes no others). An agent's action counts as soon as its outbox row is
written, while it is pending or sending and once done: the task leaves the inbox when the agent
acts, not when Debitura's answer has been synced. A failed row no longer counts (the task comes
back, beside a "fix a failed action" task).

- verify_assignment: the case is Pending Verification, with no accept, decline or close on its
  way (or done since the case was last synced). Due one business day after Debitura created
  (assigned) the case, weekends skipped (cases.sla, the list's SLA clock). Visible at once.
- reply_creditor: the case takes chat (Active, Paused, Needs Additional Details) and its chat
  holds a message from the creditor's side (creditor or managing partner) newer than the agency's
  last message and the agency's last chat or accept row. Due 48 business hours after the first
  unanswered message arrived. Visible at once.
- progress_update: the case is Active, its timeline has been fetched at least once, and no close
  is on its way. The last progress note is the
  newest of the timeline's "Note" entries (Debitura lists notes only there) and the case's note
  rows in the outbox; the clock starts at collection start (else the case's creation) when there
  is none. Due 30 days after it; shown PROGRESS_LEAD (7 days) before.
- invoice_commission: a payment the creditor received (recipient Creditor) whose commission is
  Unpaid, confirmed or on its way. Debitura's payment listing has no commission status, so these
  are the payments recorded in the portal (the agent's answer is kept locally). Due
  COMMISSION_DAYS (14 days) after the payment's date; done by correcting the payment's commission
  to Paid once invoiced. Visible at once.
- exclusivity_ending: a case the agency works whose exclusive period (Debitura's current end
  date) has not ended and is not expired or terminated. Due on the end date; shown from 30 days
  before it. The reason names the events that extend it and the chain's last link.
- failed_action: an outbox row that failed permanently in the last FAILED_SHOWN_FOR (30 days),
  not followed by a newer row of the same kind on the case (a resend), on a case whose lifecycle
  still allows that kind (POSSIBLE_IN: a refused accept on a case since closed has nothing left to
  fix). Due one business day after it failed; the reason is Debitura's refusal as the row recorded
  it. Visible at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from cases.actions import WORKABLE
from cases.models import Case, ChatMessage, ExclusivityExtension, LifecycleChoices, TimelineItem
from cases.sla import business_deadline
from outbox.models import OutboxAction
from partnerportal.money import money_text
from payments.models import Payment
from worklist.sources import TaskSpec, register_source

Kind = OutboxAction.Kind
State = OutboxAction.State
L = LifecycleChoices
# Rows that count as the agent having acted: on their way, or through.
COUNTING = (State.PENDING, State.SENDING, State.DONE)

VERIFY_WITHIN = timedelta(days=1)  # business time
REPLY_WITHIN = timedelta(hours=48)  # business time
PROGRESS_EVERY = timedelta(days=30)
PROGRESS_LEAD = timedelta(days=7)
COMMISSION_DAYS = 14
EXCLUSIVITY_LEAD = timedelta(days=30)
FAILED_SHOWN_FOR = timedelta(days=30)
FAILED_FIX_WITHIN = timedelta(days=1)  # business time
ENDED_EXCLUSIVITY = ("expired", "terminated")


def _case_url(case_id: Any, fragment: str = "", query: str = "") -> str:
    url = reverse("cases:detail", args=[case_id])
    return f"{url}{'?' + query if query else ''}{'#' + fragment if fragment else ''}"


def _short(text: str, length: int = 140) -> str:
    return Truncator(" ".join(text.split())).chars(length)


def _closing(case_ids: Sequence[Any]) -> dict[str, set[str]]:
    """Case id -> the lifecycle kinds (accept, decline, close) the agency has sent or is sending
    that the local copy does not show yet (cases.actions.case_effective_lifecycle's rule)."""
    rows = OutboxAction.objects.filter(
        case_id__in=case_ids, kind__in=(Kind.ACCEPT, Kind.DECLINE, Kind.CLOSE), state__in=COUNTING
    ).values_list("case_id", "kind", "state", "done_at", "case__synced_at")
    found: dict[str, set[str]] = defaultdict(set)
    for case_id, kind, state, done_at, synced_at in rows:
        if state != State.DONE or (done_at is not None and done_at >= synced_at):
            found[str(case_id)].add(kind)
    return found


# --- Verify a new assignment -------------------------------------------------------------------


def verify_assignment(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    cases = list(
        Case.objects.filter(id__in=case_ids, lifecycle=L.PENDING_VERIFICATION).values_list(
            "id", "date_created", "synced_at", "creditor_name"
        )
    )
    answered = _closing([case_id for case_id, *_ in cases]) if cases else {}
    for case_id, created, synced_at, creditor in cases:
        if answered.get(str(case_id)):
            continue
        assigned = created or synced_at
        yield TaskSpec(
            kind="verify_assignment",
            case_id=case_id,
            key=f"verify_assignment:{case_id}",
            due_at=business_deadline(assigned, VERIFY_WITHIN),
            visible_from=assigned,
            reason=f"New assignment{' from ' + creditor if creditor else ''} on "
            f"{timezone.localtime(assigned):%Y-%m-%d %H:%M}: Debitura expects it accepted or declined "
            "within one business day.",
            url=_case_url(case_id, "action-accept"),
            action="Accept or decline",
        )


# --- Reply to the creditor ---------------------------------------------------------------------


def reply_creditor(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    workable = list(Case.objects.filter(id__in=case_ids, lifecycle__in=WORKABLE).values_list("id", flat=True))
    if not workable:
        return
    closing = _closing(workable)
    # The agency's latest word: its own chat messages, and its chat (or welcome) rows in the outbox.
    last_reply: dict[Any, datetime] = dict(
        OutboxAction.objects.filter(
            case_id__in=workable, kind__in=(Kind.CHAT, Kind.ACCEPT), state__in=COUNTING
        )
        .values("case_id")
        .annotate(last=Max("created_at"))
        .values_list("case_id", "last")
    )
    messages = ChatMessage.objects.filter(case_id__in=workable, date_created__isnull=False).values_list(
        "case_id", "role", "date_created", "message", "author_name", "role_label"
    )
    by_case: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for row in messages:
        by_case[row[0]].append(row)
    for case_id, rows in by_case.items():
        if closing.get(str(case_id), set()) & {Kind.CLOSE, Kind.DECLINE}:
            continue
        rows.sort(key=lambda row: row[2])
        replied = last_reply.get(case_id)
        for _, role, when, _text, _author, _label in rows:
            if role == ChatMessage.Role.PARTNER and (replied is None or when > replied):
                replied = when
        waiting = [
            row
            for row in rows
            if row[1] != ChatMessage.Role.PARTNER and (replied is None or row[2] > replied)
        ]
        if not waiting:
            continue
        first, newest = waiting[0], waiting[-1]
        who = newest[4] or (
            "The managing partner" if newest[1] == ChatMessage.Role.MANAGING_PARTNER else "The creditor"
        )
        count = f"{len(waiting)} messages" if len(waiting) > 1 else "A message"
        yield TaskSpec(
            kind="reply_creditor",
            case_id=case_id,
            key=f"reply_creditor:{case_id}",
            due_at=business_deadline(first[2], REPLY_WITHIN),
            visible_from=first[2],
            reason=f"{count} without a reply since {timezone.localtime(first[2]):%Y-%m-%d %H:%M}. "
            f"{who} wrote: “{_short(newest[3])}”",
            url=_case_url(case_id, "action-chat"),
            action="Reply",
        )


# --- Monthly progress update -------------------------------------------------------------------


def progress_update(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    cases = list(
        # Notes are known only from a fetched timeline: a case whose children were never fetched
        # gets its task once they are (the children store sends cases_changed).
        Case.objects.filter(
            id__in=case_ids, lifecycle=L.ACTIVE, children_synced_at__isnull=False
        ).values_list("id", "date_collection_started", "date_created", "synced_at")
    )
    if not cases:
        return
    ids = [case_id for case_id, *_ in cases]
    closing = _closing(ids)
    noted: dict[Any, datetime] = dict(
        TimelineItem.objects.filter(case_id__in=ids, type__iexact="note", date__isnull=False)
        .values("case_id")
        .annotate(last=Max("date"))
        .values_list("case_id", "last")
    )
    for case_id, last in (
        OutboxAction.objects.filter(case_id__in=ids, kind=Kind.NOTE, state__in=COUNTING)
        .values("case_id")
        .annotate(last=Max("created_at"))
        .values_list("case_id", "last")
    ):
        noted[case_id] = max(last, noted.get(case_id, last))
    for case_id, started, created, synced_at in cases:
        if closing.get(str(case_id), set()) & {Kind.CLOSE, Kind.DECLINE}:
            continue
        last_note = noted.get(case_id)
        since = last_note or started or created or synced_at
        due = since + PROGRESS_EVERY
        when = f"{timezone.localtime(since):%Y-%m-%d}"
        reason = (
            f"Last progress note {when}."
            if last_note
            else f"No progress note since collection started on {when}."
        )
        yield TaskSpec(
            kind="progress_update",
            case_id=case_id,
            key=f"progress_update:{case_id}",
            due_at=due,
            visible_from=due - PROGRESS_LEAD,
            reason=f"{reason} Debitura expects an update every month and scores its timeliness.",
            url=_case_url(case_id, "action-note"),
            action="Post a note",
        )


# --- Invoice the commission --------------------------------------------------------------------


def invoice_commission(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    payments = Payment.objects.filter(
        case_id__in=case_ids,
        recipient=Payment.Recipient.CREDITOR,
        commission_status=Payment.CommissionStatus.UNPAID,
        state__in=(Payment.State.CONFIRMED, Payment.State.PENDING),
    ).values_list("id", "case_id", "date", "amount", "currency", "payout_partner")
    for payment_id, case_id, paid_on, amount, currency, ours in payments:
        share = f" (our share {money_text(ours, currency)})" if ours else ""
        due = timezone.make_aware(datetime.combine(paid_on + timedelta(days=COMMISSION_DAYS), time(23, 59)))
        yield TaskSpec(
            kind="invoice_commission",
            case_id=case_id,
            key=f"invoice_commission:{payment_id}",
            due_at=due,
            visible_from=timezone.make_aware(datetime.combine(paid_on, time.min)),
            reason=f"The creditor received {money_text(amount, currency)} on {paid_on:%Y-%m-%d} and our "
            f"commission on it is unpaid{share}: invoice the creditor, then mark the commission paid.",
            url=reverse("payments:detail", args=[payment_id]),
            action="Open the payment",
        )


# --- Exclusivity ending ------------------------------------------------------------------------


def exclusivity_ending(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    now = timezone.now()
    cases = [
        row
        for row in Case.objects.filter(
            id__in=case_ids, lifecycle__in=WORKABLE, exclusive_period_end__gte=now
        ).values_list("id", "exclusive_period_end", "exclusivity_status")
        if row[2].lower() not in ENDED_EXCLUSIVITY
    ]
    if not cases:
        return
    last_link: dict[Any, tuple[str, datetime | None]] = {}
    for case_id, kind, when in (
        ExclusivityExtension.objects.filter(case_id__in=[row[0] for row in cases])
        .order_by("case_id", "position")
        .values_list("case_id", "type", "event_date")
    ):
        last_link[case_id] = (kind, when)
    for case_id, end, _status in cases:
        assert end is not None  # filtered on it
        link = last_link.get(case_id)
        history = (
            f" Last extended by {link[0] or 'an event'}{' on ' + f'{link[1]:%Y-%m-%d}' if link[1] else ''}."
            if link
            else " Not extended so far."
        )
        yield TaskSpec(
            kind="exclusivity_ending",
            case_id=case_id,
            key=f"exclusivity_ending:{case_id}",
            due_at=end,
            visible_from=end - EXCLUSIVITY_LEAD,
            reason=f"Exclusivity ends {timezone.localtime(end):%Y-%m-%d}. A promise to pay, a payment "
            f"agreement or a payment extends it by 12 months.{history}",
            url=_case_url(case_id, "case-exclusivity"),
            action="See the exclusive period",
        )


# --- Fix a failed action -----------------------------------------------------------------------

# Where a failed row of each kind is edited and sent again: its form on the case page, filled
# with the row's values (the case page's ?resend=).
RESEND_FORMS = {
    Kind.ACCEPT: "action-accept",
    Kind.DECLINE: "action-decline",
    Kind.CLOSE: "action-close",
    Kind.NOTE: "action-note",
    Kind.CHAT: "action-chat",
    Kind.FEES: "action-fees",
    Kind.PAYMENT_CREATE: "action-payment",
    Kind.FILE_UPLOAD: "file-upload",
}


# The lifecycles in which a failed row of these kinds can still be sent again (others: any).
POSSIBLE_IN: dict[str, frozenset[str]] = {
    Kind.ACCEPT: frozenset({L.PENDING_VERIFICATION}),
    Kind.DECLINE: frozenset({L.PENDING_VERIFICATION}),
    **dict.fromkeys((Kind.CLOSE, Kind.NOTE, Kind.CHAT, Kind.FEES, Kind.PAYMENT_CREATE), WORKABLE),
}


def failed_action(case_ids: Sequence[Any]) -> Iterator[TaskSpec]:
    since = timezone.now() - FAILED_SHOWN_FOR
    # Only a case's recent failures, read off the outbox's (case, created_at) index.
    failed = list(
        OutboxAction.objects.filter(
            case_id__in=case_ids, state=State.FAILED, updated_at__gte=since
        ).values_list("id", "case_id", "kind", "created_at", "updated_at", "last_error", "payload")
    )
    if not failed:
        return
    newest: dict[tuple[Any, str], datetime] = {
        (case_id, kind): last
        for case_id, kind, last in OutboxAction.objects.filter(
            case_id__in={row[1] for row in failed}, state__in=COUNTING
        )
        .values("case_id", "kind")
        .annotate(last=Max("created_at"))
        .values_list("case_id", "kind", "last")
    }
    lifecycles = dict(Case.objects.filter(id__in={row[1] for row in failed}).values_list("id", "lifecycle"))
    labels = dict(Kind.choices)
    for action_id, case_id, kind, created, failed_at, error, payload in failed:
        later = newest.get((case_id, kind))
        if later is not None and later > created:
            continue  # sent again since: the newer row says how that went
        if lifecycles.get(case_id) not in POSSIBLE_IN.get(kind, frozenset(L)):
            continue  # the case moved on (accepted elsewhere, closed): nothing left to fix here
        if kind in RESEND_FORMS:
            url, action = (
                _case_url(case_id, RESEND_FORMS[Kind(kind)], f"resend={action_id}"),
                "Edit and resend",
            )
        elif isinstance(payload, dict) and payload.get("payment_id"):
            url, action = reverse("payments:detail", args=[payload["payment_id"]]), "Open the payment"
        else:
            url, action = _case_url(case_id, "case-action-log"), "See the action"
        yield TaskSpec(
            kind="failed_action",
            case_id=case_id,
            key=f"failed_action:{action_id}",
            due_at=business_deadline(failed_at, FAILED_FIX_WITHIN),
            visible_from=failed_at,
            reason=_short(f"{labels.get(kind, kind)} failed: {error or 'no reason given'}", 480),
            url=url,
            action=action,
        )


def builtin_register() -> None:
    """Register the built-in sources (WorklistConfig.ready)."""
    register_source("verify_assignment", "Verify a new assignment", verify_assignment)
    register_source("reply_creditor", "Reply to the creditor", reply_creditor)
    register_source("progress_update", "Monthly progress update", progress_update)
    register_source("invoice_commission", "Invoice the commission", invoice_commission)
    register_source("exclusivity_ending", "Exclusivity ending", exclusivity_ending)
    register_source("failed_action", "Fix a failed action", failed_action)
