"""The case actions' relay handlers: exactly once through lost answers (the key, or the check for
the effect), refusals in Debitura's words, and what each reads back. (The upload's: tests/documents.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cases.actions import case_accept, case_chat_send, case_close, case_fees_update
from cases.models import ChatMessage, TimelineItem
from outbox.models import OutboxAction
from outbox.relay import Outcome
from tests.fixtures.outbox import LATER, NOW, note_add, posts, reload, requests_made

pytestmark = pytest.mark.django_db

State = OutboxAction.State


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


def _fees(case, agent):
    return case_fees_update(
        case=case,
        actor=agent,
        interest_fees=Decimal("3.30"),
        reminder_fees=Decimal("4.40"),
        collection_fees=Decimal("5.50"),
    )


NON_IDEMPOTENT = [
    pytest.param(_accept, "PendingVerification", "/cases/{id}/start", "POST", id="start"),
    pytest.param(_close, "Active", "/cases/{id}/close", "POST", id="close"),
    pytest.param(note_add, "Active", "/cases/{id}/notes", "POST", id="note"),
    pytest.param(_fees, "Active", "/cases/{id}/fees", "PUT", id="fees"),
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
    first = note_add(active_case, team_agent)
    relay()
    second = note_add(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"])
    relay()
    emulator.clear_faults()
    relay(now=LATER)

    assert (reload(first).state, reload(second).state) == (State.DONE, State.DONE)
    notes = [t for t in emulator.state.cases[str(active_case.pk)].timeline if t.type == "Note"]
    assert [n.description for n in notes].count("Visited the debtor's office.") == 2


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


def test_a_note_costs_its_look_alike_count_and_its_post_and_shows_on_the_timeline_at_once(
    fetched_case, team_agent, relay, emulator
):

    note_add(fetched_case, team_agent)
    emulator.request_log.clear()

    relay()

    assert requests_made(emulator) == ["GET /cases/{id}/timeline", "POST /cases/{id}/notes"]
    newest = TimelineItem.objects.filter(case=fetched_case).order_by("-date", "-position").first()
    assert (newest.type, newest.description) == ("Note", "Visited the debtor's office.")


def test_a_chat_message_costs_one_request_and_joins_the_local_chat_from_debituras_answer(
    fetched_case, team_agent, relay, emulator
):

    action = case_chat_send(case=fetched_case, actor=team_agent, message="We called the debtor today.")
    emulator.request_log.clear()

    relay()

    assert requests_made(emulator) == ["POST /cases/{id}/chats"]
    assert ChatMessage.objects.get(id=reload(action).response["id"]).message == "We called the debtor today."


def test_a_case_whose_children_were_never_fetched_is_read_whole_after_an_action(
    active_case, team_agent, relay, emulator
):

    assert active_case.children_synced_at is None
    note_add(active_case, team_agent)
    emulator.request_log.clear()

    relay()

    assert len(emulator.request_log) == 2 + 7  # the note and its count, then the case and six children
    active_case.refresh_from_db()
    assert active_case.children_synced_at is not None
    assert TimelineItem.objects.filter(case=active_case, description="Visited the debtor's office.").exists()


def test_a_note_found_after_an_unclear_failure_reads_the_timeline_it_could_not_take_from_an_answer(
    fetched_case, team_agent, relay, emulator
):

    action = note_add(fetched_case, team_agent)
    emulator.set_faults(drop_rate=1.0, paths=["/cases/{id}/notes"], methods=["POST"])
    relay()
    emulator.clear_faults()
    emulator.request_log.clear()

    assert relay(now=LATER).counts == {Outcome.FOUND: 1}

    assert requests_made(emulator) == ["GET /cases/{id}/timeline", "GET /cases/{id}/timeline"]
    assert reload(action).state == State.DONE
    assert (
        TimelineItem.objects.filter(case=fetched_case, description="Visited the debtor's office.").count()
        == 1
    )


def test_an_unsent_note_is_sent_even_when_the_timeline_already_has_the_same_text(
    active_case, team_agent, relay, emulator, synced
):
    # Someone wrote the same words at Debitura before; our note then fails without reaching it.
    synced.create_note(str(active_case.pk), description="Visited the debtor's office.")
    action = note_add(active_case, team_agent)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/notes"], methods=["POST"])
    relay()
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)
    emulator.clear_faults()

    report = relay(now=NOW + timedelta(minutes=10))

    assert report.counts == {Outcome.DONE: 1}, "the look-alike must not pass for ours"
    assert reload(action).state == State.DONE


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
