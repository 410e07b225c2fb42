"""Recording, changing and cancelling a promise to pay: checked, written with its revision and the
note that tells Debitura, in one transaction, and relayed after commit.

Debitura has no promise endpoint, so each step is a timeline note (outbox kind `note`, sent by
cases' note handler). The write is cases' one (case_action_write: the case's lock, the lifecycle
check, the idempotency token); the promise, its instalments and its revision are the action's
optimistic change, so an error anywhere leaves nothing half-written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, NotRequired, Required, TypedDict, Unpack

from django.utils import timezone

from cases.actions import WORKABLE, ActionInvalid, Kind, action_fields, case_action_write
from cases.changes import AGENT
from cases.models import Case
from debitura import validation
from outbox.models import OutboxAction
from partnerportal.money import fits_currency, money_text
from promises.evaluation import promises_evaluate
from promises.models import Promise, PromiseInstalment, PromiseRevision, PromiseStatus
from promises.schedule import MAX_INSTALMENTS, Instalment, ScheduleInvalid, schedule_plan

MADE_BY_MAX = 200
NOTE_MAX = 2000
REASON_MAX = 1000
# How the note says who promised: "by phone", "by e-mail", "by letter"; other ways go unsaid.
CHANNEL_WORDS = {"phone": " by phone", "email": " by e-mail", "letter": " by letter", "other": ""}


class PromiseFields(TypedDict, total=False):
    """A promise as an agent enters it; `instalment_amount` is each instalment but the last."""

    amount: Required[Decimal]
    first_due: Required[date]
    instalments: NotRequired[int]
    interval: NotRequired[str]
    instalment_amount: NotRequired[Decimal | None]
    made_by: Required[str]
    channel: Required[str]
    note: NotRequired[str]


def promise_plan(
    *, case: Case, fields: PromiseFields, today: date, past_allowed: date | None = None
) -> list[Instalment]:
    """Check the values as the form does (a caller without the form gets the same answers) and
    return the schedule; raises ActionInvalid with every field's error at once."""
    errors: dict[str, str] = {}
    currency = case.currency
    amount, each = fields["amount"], fields.get("instalment_amount")
    count = fields.get("instalments", 1)
    for name, value in (("amount", amount), ("instalment_amount", each)):
        if value is None:
            continue
        try:
            fraction = not fits_currency(value, currency)
        except InvalidOperation:
            fraction = True
        if value <= 0:
            errors[name] = "Must be more than zero."
        elif fraction:
            errors[name] = f"{currency} amounts cannot have that many decimals."
    first_due = fields["first_due"]
    if first_due < today and first_due != past_allowed:
        errors["first_due"] = "Cannot be in the past."
    if not 1 <= count <= MAX_INSTALMENTS:
        errors["instalments"] = f"Between 1 and {MAX_INSTALMENTS} instalments."
    made_by = fields["made_by"].strip()
    if not made_by:
        errors["made_by"] = "Say who made the promise."
    elif len(made_by) > MADE_BY_MAX:
        errors["made_by"] = f"At most {MADE_BY_MAX} characters."
    if fields["channel"] not in Promise.Channel.values:
        errors["channel"] = "Choose how the promise was made."
    if len(fields.get("note", "")) > NOTE_MAX:
        errors["note"] = f"At most {NOTE_MAX} characters."
    plan: list[Instalment] = []
    # The schedule is checked unless an amount or the count it needs is wrong, so a past date
    # and a schedule that does not add up are both named at once.
    if not errors.keys() & {"amount", "instalment_amount", "instalments"}:
        try:
            plan = schedule_plan(
                total=amount,
                currency=currency,
                first_due=first_due,
                count=count,
                interval=fields.get("interval", "") if count > 1 else "",
                each=each,
            )
        except ScheduleInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise ActionInvalid(errors)
    return plan


def schedule_text(*, plan: list[Instalment], interval: str, currency: str) -> str:
    """The schedule in plain words: "400.00 EUR on 2027-01-15" or "3 monthly instalments of ..."."""
    first = plan[0]
    if len(plan) == 1:
        return f"{money_text(first.amount, currency)} on {first.due_date.isoformat()}"
    last = plan[-1]
    text = (
        f"{money_text(sum(i.amount for i in plan), currency)} in {len(plan)} {interval} instalments of "
        f"{money_text(first.amount, currency)} from {first.due_date.isoformat()}"
        f" to {last.due_date.isoformat()}"
    )
    if last.amount != first.amount:
        text += f" (the last one {money_text(last.amount, currency)})"
    return text


def _promise_words(*, plan: list[Instalment], interval: str, currency: str, fields: PromiseFields) -> str:
    words = schedule_text(plan=plan, interval=interval, currency=currency)
    words += f". Made by {fields['made_by'].strip()}{CHANNEL_WORDS.get(fields['channel'], '')}."
    note = fields.get("note", "").strip()
    return f"{words} Note: {note}" if note else words


def _values(*, plan: list[Instalment], interval: str, currency: str, fields: PromiseFields) -> dict[str, str]:
    """A promise's values as a revision keeps them (text, so they read the same in ten years)."""
    return {
        "Amount": money_text(fields["amount"], currency),
        "First due": fields["first_due"].isoformat(),
        "Schedule": schedule_text(plan=plan, interval=interval, currency=currency),
        "Promised by": fields["made_by"].strip(),
        "How": str(Promise.Channel(fields["channel"]).label),
        "Note": fields.get("note", "").strip(),
    }


def _promise_values(promise: Promise) -> dict[str, str]:
    plan = [Instalment(i.position, i.due_date, i.amount) for i in promise.schedule.order_by("position")]
    return _values(
        plan=plan,
        interval=promise.interval,
        currency=promise.currency,
        fields={
            "amount": promise.amount,
            "first_due": promise.first_due,
            "made_by": promise.made_by,
            "channel": promise.channel,
            "note": promise.note,
        },
    )


def _note_checked(description: str, field: str) -> dict[str, Any]:
    with action_fields({"description": field, "eventDate": field}):
        validation.check_note(description=description, event_date=None, now=timezone.now())
    return {"description": description, "event_date": None}


def _schedule_write(promise: Promise, plan: list[Instalment]) -> None:
    PromiseInstalment.objects.bulk_create(
        PromiseInstalment(promise=promise, position=i.position, due_date=i.due_date, amount=i.amount)
        for i in plan
    )


def _promise_of(action: OutboxAction) -> Promise:
    """The promise a note row relayed (a double submit's first row); any other row's token is refused."""
    promise = Promise.objects.filter(pk=action.payload.get("promise_id")).first()
    if promise is None:
        raise ActionInvalid({"token": "This form was already used for another action; reload the page."})
    return promise


def promise_record(
    *, case: Case, actor: Any, token: str | None = None, **fields: Unpack[PromiseFields]
) -> Promise:
    """Record a promise to pay with its instalments; relayed to Debitura as a timeline note."""
    today = timezone.localdate()
    plan = promise_plan(case=case, fields=fields, today=today)
    interval = fields.get("interval", "") if len(plan) > 1 else ""
    description = "Promise to pay: " + _promise_words(
        plan=plan, interval=interval, currency=case.currency, fields=fields
    )
    payload = _note_checked(description, "note")
    written: list[Promise] = []

    def optimistic(action: OutboxAction) -> None:
        locked = action.case
        assert locked is not None  # a note action always has its case
        promise = Promise.objects.create(
            case=locked,
            amount=fields["amount"],
            currency=locked.currency,
            first_due=fields["first_due"],
            instalments=len(plan),
            interval=interval,
            made_by=fields["made_by"].strip(),
            channel=fields["channel"],
            note=fields.get("note", "").strip(),
            recorded_by=actor,
            created_at=action.created_at,
            updated_at=action.created_at,
            action=action,
        )
        _schedule_write(promise, plan)
        PromiseRevision.objects.create(
            promise=promise,
            kind=PromiseRevision.Kind.RECORDED,
            by=actor,
            at=action.created_at,
            changes={
                name: ["", value]
                for name, value in _values(
                    plan=plan, interval=interval, currency=promise.currency, fields=fields
                ).items()
                if value
            },
            action=action,
        )
        action.payload["promise_id"] = promise.pk
        action.save(update_fields=["payload"])
        written.append(promise)

    action = case_action_write(
        case=case,
        actor=actor,
        kind=Kind.NOTE,
        payload=payload,
        token=token,
        allowed=WORKABLE,
        optimistic=optimistic,
    )
    return written[0] if written else _promise_of(action)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ActionInvalid({"reason": "Say why, for the history and the creditor."})
    if len(reason) > REASON_MAX:
        raise ActionInvalid({"reason": f"At most {REASON_MAX} characters."})
    return reason


def _locked_changeable(promise: Promise) -> Promise:
    """The promise read again under the case's lock: a second session's change or cancel, or
    an evaluation that found it kept, is seen."""
    current = Promise.objects.get(pk=promise.pk)
    if not current.can_change:
        raise ActionInvalid({"__all__": f"This promise is {current.get_status_display().lower()} already."})
    return current


def promise_change(
    *, promise: Promise, actor: Any, reason: str, token: str | None = None, **fields: Unpack[PromiseFields]
) -> Promise:
    """Change an open or broken promise (a new schedule replaces the old); the change and its
    reason are kept as a revision and relayed as a note."""
    reason = _reason(reason)
    if not promise.can_change:
        raise ActionInvalid({"__all__": f"This promise is {promise.get_status_display().lower()}."})
    case = promise.case
    # A promise already running keeps its first date; a new one must not be in the past.
    plan = promise_plan(case=case, fields=fields, today=timezone.localdate(), past_allowed=promise.first_due)
    interval = fields.get("interval", "") if len(plan) > 1 else ""
    before = _promise_values(promise)
    after = _values(plan=plan, interval=interval, currency=promise.currency, fields=fields)
    changes = {name: [before[name], after[name]] for name in after if before.get(name) != after[name]}
    if not changes:
        raise ActionInvalid({"__all__": "Nothing is different from the promise as it stands."})
    recorded = timezone.localtime(promise.created_at).date().isoformat()
    description = (
        f"Promise to pay of {recorded} changed, now: "
        + _promise_words(plan=plan, interval=interval, currency=promise.currency, fields=fields)
        + f" Reason: {reason}"
    )
    payload = {**_note_checked(description, "reason"), "promise_id": promise.pk}

    def optimistic(action: OutboxAction) -> None:
        current = _locked_changeable(promise)
        current.amount = fields["amount"]
        current.first_due = fields["first_due"]
        current.instalments = len(plan)
        current.interval = interval
        current.made_by = fields["made_by"].strip()
        current.channel = fields["channel"]
        current.note = fields.get("note", "").strip()
        current.status = PromiseStatus.OPEN  # until evaluated below, against the new schedule
        current.updated_at = action.created_at
        current.save()
        current.schedule.all().delete()
        _schedule_write(current, plan)
        PromiseRevision.objects.create(
            promise=current,
            kind=PromiseRevision.Kind.CHANGED,
            by=actor,
            at=action.created_at,
            changes=changes,
            reason=reason,
            action=action,
        )
        promises_evaluate(case_ids=[current.case_id], origin=AGENT)

    case_action_write(
        case=case,
        actor=actor,
        kind=Kind.NOTE,
        payload=payload,
        token=token,
        allowed=WORKABLE,
        optimistic=optimistic,
    )
    return Promise.objects.get(pk=promise.pk)


def promise_cancel(*, promise: Promise, actor: Any, reason: str, token: str | None = None) -> Promise:
    """Cancel an open or broken promise with a reason; kept as a revision and relayed as a note."""
    reason = _reason(reason)
    if not promise.can_change:
        raise ActionInvalid({"__all__": f"This promise is {promise.get_status_display().lower()}."})
    recorded = timezone.localtime(promise.created_at).date().isoformat()
    description = (
        f"Promise to pay of {recorded} ({money_text(promise.amount, promise.currency)}, "
        f"made by {promise.made_by}) cancelled. Reason: {reason}"
    )
    payload = {**_note_checked(description, "reason"), "promise_id": promise.pk}

    def optimistic(action: OutboxAction) -> None:
        current = _locked_changeable(promise)
        before = current.get_status_display()
        current.status = PromiseStatus.CANCELLED
        current.updated_at = action.created_at
        current.save(update_fields=["status", "updated_at"])
        PromiseRevision.objects.create(
            promise=current,
            kind=PromiseRevision.Kind.CANCELLED,
            by=actor,
            at=action.created_at,
            changes={"Status": [before, str(PromiseStatus.CANCELLED.label)]},
            reason=reason,
            action=action,
        )

    case_action_write(
        case=promise.case,
        actor=actor,
        kind=Kind.NOTE,
        payload=payload,
        token=token,
        allowed=WORKABLE,
        optimistic=optimistic,
    )
    return Promise.objects.get(pk=promise.pk)
