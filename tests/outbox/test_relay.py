"""The relay: exactly once through lost answers, retries with backoff, order per case, leases, admin."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from cases.actions import (
    case_accept,
    case_chat_send,
    case_close,
    case_fees_update,
    case_file_upload,
    case_note_add,
)
from cases.handlers import _before_note
from debitura.emulator import operations
from outbox import claims, leases, registry, timing
from outbox import relay as outbox_relay
from outbox.interventions import OutboxStateError, outbox_cancel, outbox_retry
from outbox.models import OutboxAction
from outbox.relay import Outcome, outbox_relay_due, outbox_sweep
from payments.actions import payment_delete, payment_record
from payments.models import Payment
from tests.fixtures.gateway import make_client
from tests.fixtures.outbox import NOW, reload

pytestmark = pytest.mark.django_db

State = OutboxAction.State
PAID = date.today() - timedelta(days=3)
LATER = NOW + timedelta(hours=2)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def posts(emulator: Any, template: str, method: str = "POST") -> list[Any]:
    return emulator.requests(method=method, template=template)


def record(case: Any, agent: Any, amount: str = "19.99", **kwargs: Any) -> OutboxAction:
    return payment_record(
        case=case, actor=agent, date=PAID, amount=Decimal(amount), recipient="CollectionPartner", **kwargs
    )


# --- Exactly once through lost answers ---------------------------------------------------------


def test_a_payment_whose_answer_was_dropped_is_resent_with_its_key_and_recorded_once(
    active_case, team_agent, relay, emulator
):
    before = len(emulator.state.cases[str(active_case.pk)].payments)
    action = record(active_case, team_agent, "77.70")
    emulator.set_faults(drop_rate=1.0, paths=["/cases/{id}/payments"], methods=["POST"])

    relay()
    assert reload(action).state == State.PENDING
    assert action.uncertain
    emulator.clear_faults()
    relay(now=LATER)

    assert reload(action).state == State.DONE
    sent = posts(emulator, "/cases/{id}/payments")
    assert [r.idempotency_key for r in sent] == [action.idempotency_key] * 2
    remote = emulator.state.cases[str(active_case.pk)].payments
    assert len(remote) == before + 1
    assert Payment.objects.get(pk=action.payload["payment_id"]).remote_id is not None


def test_a_chat_message_whose_answer_timed_out_is_resent_with_its_key_and_posted_once(
    active_case, team_agent, relay, emulator
):
    action = case_chat_send(case=active_case, actor=team_agent, message="Payment plan agreed?")
    emulator.set_faults(timeout_rate=1.0, paths=["/cases/{id}/chats"], methods=["POST"])

    relay()
    assert reload(action).uncertain
    emulator.clear_faults()
    relay(now=LATER)

    assert reload(action).state == State.DONE
    assert len(posts(emulator, "/cases/{id}/chats")) == 2
    messages = [m.message for m in emulator.state.cases[str(active_case.pk)].chats]
    assert messages.count("Payment plan agreed?") == 1


def _accept(case, agent):
    return case_accept(
        case=case, actor=agent, welcome_message="Welcome, we take it from here.", partner_reference="X-9"
    )


def _close(case, agent):
    return case_close(case=case, actor=agent, close_code="UneconomicalToPursue")


def _note(case, agent):
    return case_note_add(case=case, actor=agent, description="Visited the debtor's office.")


def _fees(case, agent):
    return case_fees_update(
        case=case,
        actor=agent,
        interest_fees=Decimal("3.30"),
        reminder_fees=Decimal("4.40"),
        collection_fees=Decimal("5.50"),
    )


def _file(case, agent):
    return case_file_upload(case=case, actor=agent, file=ContentFile(b"hello", name="letter.txt"))


NON_IDEMPOTENT = [
    pytest.param(_accept, "PendingVerification", "/cases/{id}/start", "POST", id="start"),
    pytest.param(_close, "Active", "/cases/{id}/close", "POST", id="close"),
    pytest.param(_note, "Active", "/cases/{id}/notes", "POST", id="note"),
    pytest.param(_fees, "Active", "/cases/{id}/fees", "PUT", id="fees"),
    pytest.param(_file, "Active", "/cases/{id}/files", "POST", id="file"),
]


@pytest.mark.parametrize(("make", "lifecycle", "template", "method"), NON_IDEMPOTENT)
def test_an_action_without_a_key_is_not_resent_when_its_effect_is_already_there(
    make, lifecycle, template, method, cases_by_lifecycle, team_agent, relay, emulator
):
    case = cases_by_lifecycle(lifecycle)[0]
    action = make(case, team_agent)
    emulator.set_faults(drop_rate=1.0, paths=[template], methods=[method])

    relay()
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)
    emulator.clear_faults()
    report = relay(now=LATER)

    assert report.counts == {Outcome.FOUND: 1}
    assert reload(action).state == State.DONE
    assert action.response["effectFound"] is True
    assert len(posts(emulator, template, method)) == 1


@pytest.mark.parametrize(("make", "lifecycle", "template", "method"), NON_IDEMPOTENT)
def test_an_action_without_a_key_is_resent_when_the_check_finds_no_effect(
    make, lifecycle, template, method, cases_by_lifecycle, team_agent, relay, emulator
):
    case = cases_by_lifecycle(lifecycle)[0]
    action = make(case, team_agent)
    # A 500 is ambiguous to the client, but the emulator fails before the effect.
    emulator.set_faults(error_rate=1.0, paths=[template], methods=[method])

    relay()
    assert reload(action).uncertain
    emulator.clear_faults()
    relay(now=LATER)

    assert reload(action).state == State.DONE
    assert "effectFound" not in action.response
    assert [r.status for r in posts(emulator, template, method)] == [500, 200]


def test_two_identical_notes_are_both_posted_even_after_an_unclear_failure(
    active_case, team_agent, relay, emulator
):
    first = _note(active_case, team_agent)
    relay()
    second = _note(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"])
    relay()
    emulator.clear_faults()
    relay(now=LATER)

    assert (reload(first).state, reload(second).state) == (State.DONE, State.DONE)
    notes = [t for t in emulator.state.cases[str(active_case.pk)].timeline if t.type == "Note"]
    assert [n.description for n in notes].count("Visited the debtor's office.") == 2


# --- Failures ---------------------------------------------------------------------------------


def test_a_refused_payment_fails_in_debituras_words_and_the_local_copy_is_restored(
    active_case, team_agent, relay, emulator
):
    action = record(active_case, team_agent)
    with emulator.state.lock:  # the creditor withdrew the case in the meantime
        operations.creditor_withdraw(emulator.state, emulator.state.cases[str(active_case.pk)])

    relay()

    assert reload(action).state == State.FAILED
    assert "Cannot register a payment on a case in lifecycle 'Closed'" in action.last_error
    assert action.response["businessErrors"]
    assert Payment.objects.get(pk=action.payload["payment_id"]).state == Payment.State.FAILED
    active_case.refresh_from_db()
    assert active_case.lifecycle == "Closed"


def test_a_fee_change_that_moves_the_success_fee_fails_asking_for_consent(
    active_case, team_agent, relay, emulator
):
    remote = emulator.state.cases[str(active_case.pk)]
    action = case_fees_update(
        case=active_case,
        actor=team_agent,
        interest_fees=remote.interest_fees,
        reminder_fees=remote.reminder_fees,
        collection_fees=remote.collection_fees,
        gross_amount=Decimal(200_000),
    )

    relay()

    assert reload(action).state == State.FAILED
    assert "success fee" in action.last_error
    assert "consent" in action.last_error
    assert action.response["confirmation_required"] is True
    assert remote.gross_amount != Decimal(200_000)


def test_deleting_a_payment_that_would_reopen_a_paid_case_fails_and_keeps_the_payment(
    active_case, team_agent, relay, emulator
):
    remote = emulator.state.cases[str(active_case.pk)]
    settle = record(active_case, team_agent, str(remote.remainder), close_case=True)
    relay()
    assert remote.lifecycle == "Closed"
    payment = Payment.objects.get(pk=reload(settle).payload["payment_id"])

    action = payment_delete(payment=payment, actor=team_agent)
    relay()

    assert reload(action).state == State.FAILED
    assert "reopenCaseIfNeeded" in action.last_error
    assert action.response["businessErrors"][0]["type"] == "ReopenRequired"
    payment.refresh_from_db()
    assert payment.state == Payment.State.CONFIRMED


def test_a_transient_error_leaves_the_row_pending_with_a_later_attempt_and_the_error_in_words(
    active_case, team_agent, relay, emulator, settings, queued_relays
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    action = _note(active_case, team_agent)
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
    action = _note(active_case, team_agent)
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
    first = _note(active_case, team_agent)
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
    action = _note(active_case, team_agent)
    assert claims.claim(NOW, str(action.pk)) is not None
    assert claims.claim(NOW, str(action.pk)) is None
    assert reload(action).attempts == 1


# --- Reading back what an action changed ---------------------------------------------------------


def _requests(emulator: Any) -> list[str]:
    return [f"{r.method} {r.template}" for r in emulator.request_log]


@pytest.fixture
def fetched_case(active_case, synced):
    """The active case with its children fetched, as an agent who opened it has it."""
    from cases.sync import case_children_refresh

    case_children_refresh(case=active_case, client=synced)
    active_case.refresh_from_db()
    return active_case


def test_a_note_costs_its_look_alike_count_and_its_post_and_shows_on_the_timeline_at_once(
    fetched_case, team_agent, relay, emulator
):
    from cases.models import TimelineItem

    _note(fetched_case, team_agent)
    emulator.request_log.clear()

    relay()

    assert _requests(emulator) == ["GET /cases/{id}/timeline", "POST /cases/{id}/notes"]
    newest = TimelineItem.objects.filter(case=fetched_case).order_by("-date", "-position").first()
    assert (newest.type, newest.description) == ("Note", "Visited the debtor's office.")


def test_a_chat_message_costs_one_request_and_joins_the_local_chat_from_debituras_answer(
    fetched_case, team_agent, relay, emulator
):
    from cases.models import ChatMessage

    action = case_chat_send(case=fetched_case, actor=team_agent, message="We called the debtor today.")
    emulator.request_log.clear()

    relay()

    assert _requests(emulator) == ["POST /cases/{id}/chats"]
    assert ChatMessage.objects.get(id=reload(action).response["id"]).message == "We called the debtor today."


def test_a_payment_reads_back_the_case_for_its_remainder_and_nothing_else(
    fetched_case, team_agent, relay, emulator
):
    action = record(fetched_case, team_agent, "25.00")
    emulator.request_log.clear()

    relay()

    assert _requests(emulator) == ["POST /cases/{id}/payments", "GET /cases/{id}"]
    fetched_case.refresh_from_db()
    assert fetched_case.remainder == emulator.state.cases[str(fetched_case.pk)].remainder
    payment = Payment.objects.get(pk=reload(action).payload["payment_id"])
    assert (payment.state, payment.remote_id is not None) == (Payment.State.CONFIRMED, True)


def test_a_notes_look_alike_count_is_written_by_its_claim_not_by_a_commit_of_its_own(
    fetched_case, team_agent, relay, emulator, monkeypatch
):
    action = _note(fetched_case, team_agent)
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


def test_a_case_whose_children_were_never_fetched_is_read_whole_after_an_action(
    active_case, team_agent, relay, emulator
):
    from cases.models import TimelineItem

    assert active_case.children_synced_at is None
    _note(active_case, team_agent)
    emulator.request_log.clear()

    relay()

    assert len(emulator.request_log) == 2 + 7  # the note and its count, then the case and six children
    active_case.refresh_from_db()
    assert active_case.children_synced_at is not None
    assert TimelineItem.objects.filter(case=active_case, description="Visited the debtor's office.").exists()


def test_read_backs_of_several_actions_on_one_case_are_folded_into_one(
    fetched_case, team_agent, relay, emulator
):
    record(fetched_case, team_agent, "25.00")
    _fees(fetched_case, team_agent)
    record(fetched_case, team_agent, "26.00")
    emulator.request_log.clear()

    relay()

    assert _requests(emulator).count("GET /cases/{id}") == 1
    assert len(emulator.request_log) == 4  # three sends and one read of the case
    fetched_case.refresh_from_db()
    assert fetched_case.interest_fees == Decimal("3.30")


def test_a_note_found_after_an_unclear_failure_reads_the_timeline_it_could_not_take_from_an_answer(
    fetched_case, team_agent, relay, emulator
):
    from cases.models import TimelineItem

    action = _note(fetched_case, team_agent)
    emulator.set_faults(drop_rate=1.0, paths=["/cases/{id}/notes"], methods=["POST"])
    relay()
    emulator.clear_faults()
    emulator.request_log.clear()

    assert relay(now=LATER).counts == {Outcome.FOUND: 1}

    assert _requests(emulator) == ["GET /cases/{id}/timeline", "GET /cases/{id}/timeline"]
    assert reload(action).state == State.DONE
    assert (
        TimelineItem.objects.filter(case=fetched_case, description="Visited the debtor's office.").count()
        == 1
    )


# --- Leases, sweeps, administration ------------------------------------------------------------


def test_a_row_left_sending_by_a_dead_worker_is_checked_after_its_lease_and_not_resent(
    active_case, team_agent, relay, emulator, settings, synced
):
    settings.OUTBOX_LEASE_SECONDS = 300
    action = _note(active_case, team_agent)
    claimed = claims.claim(NOW, str(action.pk))
    assert claimed is not None
    # As the relay does: count the look-alikes, send the note, and then the worker dies.
    before, _ = _before_note(claimed, synced)
    assert outbox_relay._finish(claimed, NOW, payload={**claimed.payload, registry.BEFORE: before})
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
    action = _note(active_case, team_agent)
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
    action = _note(active_case, team_agent)
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
    action = _note(active_case, team_agent)
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


def test_an_unsent_note_is_sent_even_when_the_timeline_already_has_the_same_text(
    active_case, team_agent, relay, emulator, synced
):
    # Someone wrote the same words at Debitura before; our note then fails without reaching it.
    synced.create_note(str(active_case.pk), description="Visited the debtor's office.")
    action = _note(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"], methods=["POST"])
    relay()
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)
    emulator.clear_faults()

    report = relay(now=NOW + timedelta(minutes=10))

    assert report.counts == {Outcome.DONE: 1}, "the look-alike must not pass for ours"
    assert reload(action).state == State.DONE


def test_the_sweep_queues_rows_whose_commit_hook_was_lost(
    active_case, team_agent, relay, queued_relays, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 60
    action = _note(active_case, team_agent)  # the test's transaction never commits: no relay queued
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
    action = record(active_case, team_agent)
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
    action = record(active_case, team_agent)

    outbox_cancel(action=action, actor=administrator)
    relay()

    assert reload(action).state == State.CANCELLED
    assert "Cancelled by administrator" in action.last_error
    assert not Payment.objects.filter(pk=action.payload["payment_id"]).exists()
    assert posts(emulator, "/cases/{id}/payments") == []


def test_only_failed_rows_can_be_retried_and_only_pending_rows_cancelled(active_case, team_agent, relay):
    action = _note(active_case, team_agent)
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
    done = _note(case, team_agent)
    refused = record(closed, team_agent)
    with emulator.state.lock:
        operations.creditor_withdraw(emulator.state, emulator.state.cases[str(closed.pk)])
    out = StringIO()

    call_command("relay_outbox", stdout=out)

    assert (reload(done).state, reload(refused).state) == (State.DONE, State.FAILED)
    assert "Done: 2 sent (1 done, 1 failed). 1 failed in total." in out.getvalue()


def test_a_fee_change_debitura_rounded_to_the_currency_is_recognised_after_a_lost_answer(
    cases_by_lifecycle, team_agent, relay, emulator
):
    case = next(c for c in cases_by_lifecycle("Active") if c.currency == "JPY")
    action = case_fees_update(
        case=case,
        actor=team_agent,
        interest_fees=Decimal("10.40"),
        reminder_fees=Decimal("1.50"),
        collection_fees=Decimal("0"),
    )
    emulator.set_faults(drop_rate=1.0, paths=["/cases/{id}/fees"])
    relay()
    emulator.clear_faults()
    with emulator.state.lock:  # Debitura keeps JPY in whole units (the emulator keeps what it is sent)
        emulator.state.cases[str(case.pk)].reminder_fees = Decimal(2)
        emulator.state.touch(emulator.state.cases[str(case.pk)])

    relay(now=LATER)

    assert reload(action).state == State.DONE
    assert action.response["effectFound"] is True
    assert len(posts(emulator, "/cases/{id}/fees", "PUT")) == 1
