"""The relay: retries with backoff, order per case, claims, leases and heartbeats, folded read-backs,
the sweep, an administrator's retry and cancel, the relay command. Notes and payments serve as the
actions; what each kind does is tested with its handler (tests/cases, tests/payments)."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from cases.actions import case_chat_send, case_fees_update, case_note_add
from debitura.emulator import operations
from outbox import claims, leases, registry, timing
from outbox import relay as outbox_relay
from outbox.interventions import OutboxStateError, outbox_cancel, outbox_retry
from outbox.models import OutboxAction
from outbox.readbacks import ReadBacks
from outbox.relay import Outcome, outbox_relay_due, outbox_sweep
from payments.models import Payment
from tests.fixtures.gateway import make_client
from tests.fixtures.outbox import LATER, NOW, note_add, payment_add, posts, reload, requests_made

pytestmark = pytest.mark.django_db

State = OutboxAction.State


# --- Failures ---------------------------------------------------------------------------------


def test_a_transient_error_leaves_the_row_pending_with_a_later_attempt_and_the_error_in_words(
    active_case, team_agent, relay, emulator, settings, queued_relays
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    action = note_add(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"])

    relay()

    assert reload(action).state == State.PENDING
    assert action.attempts == 1
    assert NOW + timedelta(seconds=5) <= action.next_attempt_at <= NOW + timedelta(seconds=10)
    assert "Internal server error" in action.last_error
    relay()  # not due yet: nothing is sent
    assert len(posts(emulator, "/cases/{id}/notes")) == 1


def test_backoff_grows_per_attempt_and_stays_under_the_cap(settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 900
    assert 5 <= timing.backoff_seconds(attempts=1) <= 10
    assert 40 <= timing.backoff_seconds(attempts=4) <= 80
    assert 450 <= timing.backoff_seconds(attempts=30) <= 900


def test_a_rate_limited_send_waits_at_least_as_long_as_debitura_asks(
    active_case, team_agent, relay, emulator, settings
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 1
    action = note_add(active_case, team_agent)
    emulator.set_rate_limits(per_minute=1, per_hour=1000, per_day=10000)
    with make_client(emulator.transport()) as other:
        other.get_me()  # spends the minute's only request

    relay()

    assert reload(action).state == State.PENDING
    assert action.next_attempt_at >= NOW + timedelta(seconds=30)
    assert "rate limit" in action.last_error.lower()


# --- Order and claims --------------------------------------------------------------------------


def test_actions_on_one_case_go_out_in_order_and_a_retry_holds_back_the_later_ones(
    cases_by_lifecycle, team_agent, relay, emulator
):
    case, other = cases_by_lifecycle("Active")[:2]
    first = case_note_add(case=case, actor=team_agent, description="first")
    second = case_chat_send(case=case, actor=team_agent, message="second")
    elsewhere = case_note_add(case=other, actor=team_agent, description="elsewhere")
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"])

    relay()
    assert (reload(first).state, reload(second).attempts, reload(elsewhere).attempts) == (State.PENDING, 0, 1)
    emulator.clear_faults()
    relay(now=LATER)

    assert reload(first).done_at <= reload(second).done_at
    order = [
        r.template
        for r in emulator.request_log
        if r.method == "POST" and r.path.endswith(("/notes", "/chats"))
    ]
    assert order.index("/cases/{id}/notes", 1) < order.index("/cases/{id}/chats")


def test_a_failed_or_cancelled_earlier_action_does_not_hold_back_later_ones(active_case, team_agent, relay):
    first = note_add(active_case, team_agent)
    second = case_note_add(case=active_case, actor=team_agent, description="second")
    outbox_cancel(action=first, actor=team_agent)

    relay()

    assert reload(second).state == State.DONE


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_never_send_the_same_row_twice(synced, emulator, cases_by_lifecycle, team_agent):
    cases = cases_by_lifecycle("Active")[:6]
    actions = [
        case_note_add(case=case, actor=team_agent, description=f"note {i} on {case.reference}")
        for i in range(4)
        for case in cases
    ]
    outcomes: list[Any] = []

    def work() -> None:
        try:
            with make_client(emulator.transport()) as client:
                outcomes.append(outbox_relay_due(client=client, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(report.attempted for report in outcomes) == len(actions)
    assert {reload(a).state for a in actions} == {State.DONE}
    sent = [r.body["description"] for r in posts(emulator, "/cases/{id}/notes")]
    assert sorted(sent) == sorted(a.payload["description"] for a in actions)


def test_a_claimed_row_cannot_be_claimed_again(active_case, team_agent):
    action = note_add(active_case, team_agent)
    assert claims.claim(NOW, str(action.pk)) is not None
    assert claims.claim(NOW, str(action.pk)) is None
    assert reload(action).attempts == 1


# --- Reading back what an action changed ---------------------------------------------------------


def test_a_notes_look_alike_count_is_written_by_its_claim_not_by_a_commit_of_its_own(
    fetched_case, team_agent, relay, emulator, monkeypatch
):
    action = note_add(fetched_case, team_agent)
    finishes: list[dict[str, Any]] = []
    finish = outbox_relay._finish

    def recorded(row: Any, now: Any, **changes: Any) -> bool:
        finishes.append(changes)
        return finish(row, now, **changes)

    monkeypatch.setattr(outbox_relay, "_finish", recorded)

    relay()

    assert reload(action).payload[registry.BEFORE] == 0
    assert [sorted(changes) for changes in finishes] == [
        ["done_at", "last_error", "response", "state", "uncertain"]
    ]  # the done row only: the count went with the claim


def test_read_backs_of_several_actions_on_one_case_are_folded_into_one(
    fetched_case, team_agent, relay, emulator
):
    payment_add(fetched_case, team_agent, "25.00")
    case_fees_update(
        case=fetched_case,
        actor=team_agent,
        interest_fees=Decimal("3.30"),
        reminder_fees=Decimal("4.40"),
        collection_fees=Decimal("5.50"),
    )
    payment_add(fetched_case, team_agent, "26.00")
    emulator.request_log.clear()

    relay()

    assert requests_made(emulator).count("GET /cases/{id}") == 1
    assert len(emulator.request_log) == 4  # three sends and one read of the case
    fetched_case.refresh_from_db()
    assert fetched_case.interest_fees == Decimal("3.30")


# --- Leases, sweeps, administration ------------------------------------------------------------


def test_a_row_left_sending_by_a_dead_worker_is_checked_after_its_lease_and_not_resent(
    active_case, team_agent, relay, emulator, settings, synced
):
    settings.OUTBOX_LEASE_SECONDS = 300
    action = note_add(active_case, team_agent)
    # As the relay does: count the look-alikes and claim the row with its count, send the note,
    # and then the worker dies.
    among, counted = claims.count_before_claim(NOW, str(action.pk), 1, synced, ReadBacks(synced))
    assert claims.claim_batch(NOW, str(action.pk), limit=1, among=among, counted=counted)
    assert reload(action).payload[registry.BEFORE] == 0
    synced.create_note(str(active_case.pk), description=action.payload["description"])

    assert relay(now=NOW + timedelta(seconds=299)).attempted == 0
    report = relay(now=NOW + timedelta(seconds=301))

    assert report.counts == {Outcome.FOUND: 1}
    assert reload(action).state == State.DONE
    assert action.attempts == 2
    assert len(posts(emulator, "/cases/{id}/notes")) == 1


def test_a_row_whose_heartbeat_goes_on_is_not_taken_back_however_long_ago_it_was_claimed(
    active_case, team_agent, relay, settings
):
    settings.OUTBOX_LEASE_SECONDS = 20
    action = note_add(active_case, team_agent)
    assert claims.claim(NOW, str(action.pk)) is not None
    # The worker's heartbeat renewed the row a few seconds ago, five minutes after the claim.
    OutboxAction.objects.filter(pk=action.pk).update(heartbeat_at=NOW + timedelta(minutes=5))

    assert leases.outbox_release_expired(now=NOW + timedelta(minutes=5, seconds=19)) == 0
    assert leases.outbox_release_expired(now=NOW + timedelta(minutes=5, seconds=21)) == 1
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)


def test_a_row_taken_back_is_queued_at_once(
    active_case, team_agent, queued_relays, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_LEASE_SECONDS = 20
    action = note_add(active_case, team_agent)
    claims.claim(NOW, str(action.pk))
    queued_relays.ids.clear()

    with django_capture_on_commit_callbacks(execute=True):
        leases.outbox_release_expired(now=NOW + timedelta(seconds=21))

    assert queued_relays.ids == [str(action.pk)]


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_a_slow_send_and_stops_with_it(
    active_case, team_agent, synced, settings, monkeypatch
):
    settings.OUTBOX_LEASE_SECONDS = 4  # a beat a second
    action = note_add(active_case, team_agent)
    claimed = claims.claim(NOW, str(action.pk))
    beats: list[Any] = []
    send = registry.HANDLERS[OutboxAction.Kind.NOTE].send

    def slow_send(row: OutboxAction, client: Any) -> Any:
        # Debitura takes its time: the send lasts until the heartbeat has renewed the row twice.
        deadline = time.monotonic() + 30
        while len(beats) < 2 and time.monotonic() < deadline:
            stamp = OutboxAction.objects.get(pk=row.pk).heartbeat_at
            if stamp != NOW and stamp not in beats:
                beats.append(stamp)
            threading.Event().wait(0.05)
        return send(row, client)

    slow = dataclasses.replace(registry.HANDLERS["note"], send=slow_send)
    monkeypatch.setitem(registry.HANDLERS, OutboxAction.Kind.NOTE, slow)

    assert outbox_relay.outbox_relay_one(action=claimed, client=synced, now=NOW) == Outcome.DONE

    assert NOW < beats[0] < beats[1]  # stamps count on from the claim's moment
    assert leases.outbox_release_expired(now=beats[1] + timedelta(seconds=3)) == 0
    assert reload(action).state == State.DONE


def test_the_sweep_queues_rows_whose_commit_hook_was_lost(
    active_case, team_agent, relay, queued_relays, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 60
    action = note_add(active_case, team_agent)  # the test's transaction never commits: no relay queued
    assert queued_relays.ids == []
    due = action.next_attempt_at

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep(now=due + timedelta(seconds=30)) == 0
        assert outbox_sweep(now=due + timedelta(seconds=61)) == 1

    assert queued_relays.ids == [str(action.pk)]
    relay(first_action_id=queued_relays.ids[0], now=due + timedelta(seconds=61))
    assert reload(action).state == State.DONE


def test_an_administrator_retries_a_failed_payment_and_it_goes_through(
    active_case, team_agent, administrator, relay, emulator, queued_relays, django_capture_on_commit_callbacks
):
    action = payment_add(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/payments"])
    with emulator.state.lock:
        operations.creditor_withdraw(emulator.state, emulator.state.cases[str(active_case.pk)])
    emulator.clear_faults()
    relay()
    assert reload(action).state == State.FAILED
    with emulator.state.lock:  # Debitura support reopened the case
        emulator.state.cases[str(active_case.pk)].lifecycle = "Active"

    with django_capture_on_commit_callbacks(execute=True):
        outbox_retry(action=action, actor=administrator, now=LATER)

    assert (reload(action).state, action.next_attempt_at) == (State.PENDING, LATER)
    assert "Retried by administrator" in action.last_error
    assert Payment.objects.get(pk=action.payload["payment_id"]).state == Payment.State.PENDING
    assert queued_relays.ids == [str(action.pk)]
    relay(now=LATER)
    assert reload(action).state == State.DONE


def test_cancelling_a_pending_payment_removes_it_and_nothing_is_sent(
    active_case, team_agent, administrator, relay, emulator
):
    action = payment_add(active_case, team_agent)

    outbox_cancel(action=action, actor=administrator)
    relay()

    assert reload(action).state == State.CANCELLED
    assert "Cancelled by administrator" in action.last_error
    assert not Payment.objects.filter(pk=action.payload["payment_id"]).exists()
    assert posts(emulator, "/cases/{id}/payments") == []


def test_only_failed_rows_can_be_retried_and_only_pending_rows_cancelled(active_case, team_agent, relay):
    action = note_add(active_case, team_agent)
    with pytest.raises(OutboxStateError):
        outbox_retry(action=action, actor=team_agent)
    relay()
    with pytest.raises(OutboxStateError):
        outbox_cancel(action=reload(action), actor=team_agent)


def test_the_relay_command_drains_what_is_due_and_says_what_happened(
    cases_by_lifecycle, team_agent, emulator, synced, monkeypatch
):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setattr(outbox_relay, "get_client", lambda: synced)
    case, closed = cases_by_lifecycle("Active")[:2]
    done = note_add(case, team_agent)
    refused = payment_add(closed, team_agent)
    with emulator.state.lock:
        operations.creditor_withdraw(emulator.state, emulator.state.cases[str(closed.pk)])
    out = StringIO()

    call_command("relay_outbox", stdout=out)

    assert (reload(done).state, reload(refused).state) == (State.DONE, State.FAILED)
    assert "Done: 2 sent (1 done, 1 failed). 1 failed in total." in out.getvalue()
