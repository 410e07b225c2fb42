"""Recording, changing and cancelling a promise: one note each on Debitura's timeline (relayed
through the outbox against the emulator), a revision for every change, nothing half-written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import promises.actions
from cases.actions import ActionInvalid
from cases.models import Case, TimelineItem
from outbox.models import OutboxAction
from promises.actions import promise_cancel, promise_change, promise_record
from promises.models import Promise, PromiseInstalment, PromiseRevision
from tests.fixtures.outbox import reload
from tests.promises.conftest import promise_values

pytestmark = pytest.mark.django_db


def remote_notes(emulator, case):
    return [t.description for t in emulator.state.cases[str(case.pk)].timeline if t.type == "Note"]


def test_a_promise_is_relayed_as_exactly_one_note_in_plain_words(active_case, team_agent, relay, emulator):
    promise = promise_record(case=active_case, actor=team_agent, token="tok-p1", **promise_values())
    first = promise_values()["first_due"]

    relay()

    action = reload(promise.action)
    assert action.kind == OutboxAction.Kind.NOTE
    assert action.state == OutboxAction.State.DONE
    assert action.payload["promise_id"] == promise.pk
    currency = active_case.currency
    text = action.payload["description"]
    assert text.startswith(
        f"Promise to pay: 1,200.00 {currency} in 3 monthly instalments of 400.00 {currency}"
    )
    assert f"from {first.isoformat()}" in text
    assert "Made by Jane Debtor (accounts payable) by phone. Note: Salary comes on the 10th." in text
    assert remote_notes(emulator, active_case).count(text) == 1
    assert TimelineItem.objects.filter(case=active_case, description=text).count() == 1
    assert OutboxAction.objects.filter(case=active_case).count() == 1


def test_a_promise_keeps_its_schedule_and_who_made_it(active_case, team_agent):
    promise = promise_record(case=active_case, actor=team_agent, **promise_values())

    schedule = list(promise.schedule.order_by("position"))
    assert [i.amount for i in schedule] == [Decimal("400.00")] * 3
    assert next(i.due_date.day for i in schedule) == promise.first_due.day
    assert (promise.currency, promise.status, promise.recorded_by) == (
        active_case.currency,
        "open",
        team_agent,
    )
    revision = promise.revisions.get()
    assert revision.kind == PromiseRevision.Kind.RECORDED
    assert revision.changes["Promised by"] == ["", "Jane Debtor (accounts payable)"]
    assert revision.action == promise.action


def test_a_double_submit_records_one_promise_and_one_note(active_case, team_agent):
    first = promise_record(case=active_case, actor=team_agent, token="tok-twice", **promise_values())
    second = promise_record(case=active_case, actor=team_agent, token="tok-twice", **promise_values())

    assert first.pk == second.pk
    assert Promise.objects.count() == 1
    assert OutboxAction.objects.filter(case=active_case).count() == 1


def test_a_failure_after_the_promise_row_leaves_nothing_written(active_case, team_agent, monkeypatch):
    def broken(promise, plan):
        raise RuntimeError("disk full")

    monkeypatch.setattr(promises.actions, "_schedule_write", broken)

    with pytest.raises(RuntimeError):
        promise_record(case=active_case, actor=team_agent, **promise_values())

    assert Promise.objects.count() == 0
    assert PromiseRevision.objects.count() == 0
    assert OutboxAction.objects.filter(case=active_case).count() == 0


def test_a_promise_on_a_closed_case_is_refused_and_nothing_written(team_agent, synced):
    case = Case.objects.filter(lifecycle="Closed").first()
    assert case is not None

    with pytest.raises(ActionInvalid) as caught:
        promise_record(case=case, actor=team_agent, **promise_values())

    assert "Not possible on a case that is Closed" in caught.value.message_dict["__all__"][0]
    assert Promise.objects.count() == 0
    assert PromiseInstalment.objects.count() == 0


def test_a_change_keeps_the_old_values_and_the_reason_and_relays_one_note(
    active_case, team_agent, relay, emulator
):
    promise = promise_record(case=active_case, actor=team_agent, **promise_values())
    later = promise.first_due + timedelta(days=7)

    changed = promise_change(
        promise=promise,
        actor=team_agent,
        reason="Debtor lost a client; asked for smaller instalments.",
        **promise_values(first_due=later, instalments=4, interval="fortnightly"),
    )
    relay()

    assert [i.amount for i in changed.schedule.order_by("position")] == [Decimal("300.00")] * 4
    assert changed.first_due == later
    revision = changed.revisions.get(kind=PromiseRevision.Kind.CHANGED)
    assert revision.by == team_agent
    assert revision.reason == "Debtor lost a client; asked for smaller instalments."
    assert revision.changes["First due"] == [promise.first_due.isoformat(), later.isoformat()]
    assert revision.changes["Schedule"][1].startswith(f"1,200.00 {active_case.currency} in 4 fortnightly")
    assert set(revision.changes) == {"First due", "Schedule"}
    action = reload(revision.action)
    assert action.state == OutboxAction.State.DONE
    assert action.payload["description"].endswith(
        "Reason: Debtor lost a client; asked for smaller instalments."
    )
    assert remote_notes(emulator, active_case).count(action.payload["description"]) == 1
    assert PromiseRevision.objects.filter(promise=promise).count() == 2


def test_a_change_without_a_reason_or_without_a_difference_is_refused(active_case, team_agent):
    promise = promise_record(case=active_case, actor=team_agent, **promise_values())

    with pytest.raises(ActionInvalid) as no_reason:
        promise_change(promise=promise, actor=team_agent, reason="  ", **promise_values(amount=Decimal(900)))
    with pytest.raises(ActionInvalid) as same:
        promise_change(promise=promise, actor=team_agent, reason="Called again.", **promise_values())

    assert "reason" in no_reason.value.message_dict
    assert "Nothing is different" in same.value.message_dict["__all__"][0]
    assert PromiseRevision.objects.filter(promise=promise).count() == 1
    assert OutboxAction.objects.filter(case=active_case).count() == 1


def test_cancelling_keeps_the_promise_as_cancelled_with_its_reason(active_case, team_agent, relay, emulator):
    promise = promise_record(case=active_case, actor=team_agent, **promise_values())

    cancelled = promise_cancel(promise=promise, actor=team_agent, reason="Debtor disputes the claim now.")
    relay()

    assert cancelled.status == "cancelled"
    assert cancelled.schedule.count() == 3  # the schedule stays, for the history
    revision = cancelled.revisions.get(kind=PromiseRevision.Kind.CANCELLED)
    assert revision.changes == {"Status": ["Open", "Cancelled"]}
    assert revision.reason == "Debtor disputes the claim now."
    text = reload(revision.action).payload["description"]
    assert "cancelled. Reason: Debtor disputes the claim now." in text
    assert remote_notes(emulator, active_case).count(text) == 1
    with pytest.raises(ActionInvalid):
        promise_cancel(promise=cancelled, actor=team_agent, reason="Again.")


def test_a_change_may_keep_a_first_date_already_past_but_not_move_it_into_the_past(active_case, team_agent):
    promise = promise_record(case=active_case, actor=team_agent, **promise_values())
    yesterday = timezone.localdate() - timedelta(days=1)
    Promise.objects.filter(pk=promise.pk).update(first_due=yesterday - timedelta(days=5))
    promise.refresh_from_db()

    kept_date = promise_change(
        promise=promise,
        actor=team_agent,
        reason="Lower amount.",
        **promise_values(first_due=promise.first_due, amount=Decimal(900)),
    )
    with pytest.raises(ActionInvalid) as caught:
        promise_change(
            promise=kept_date,
            actor=team_agent,
            reason="Moved.",
            **promise_values(first_due=yesterday, amount=Decimal(900)),
        )

    assert kept_date.amount == Decimal(900)
    assert caught.value.message_dict["first_due"] == ["Cannot be in the past."]
