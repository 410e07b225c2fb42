"""Version stamps of a case: the same while nothing changed, different after any write the page shows."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from cases.actions import case_note_add
from cases.live import case_stamp, case_stamps
from cases.models import Case, ChatMessage
from cases.sync import case_refresh
from outbox.models import OutboxAction
from tests.fixtures.factories import CaseFileFactory, ChatMessageFactory, PaymentFactory, TimelineItemFactory

pytestmark = pytest.mark.django_db


def test_a_stamp_stays_the_same_while_nothing_changes_and_costs_one_query(
    active_case, django_assert_num_queries
):
    first = case_stamp(active_case.pk)
    with django_assert_num_queries(1):
        assert case_stamp(active_case.pk) == first
    assert case_stamp(uuid.uuid4()) is None
    assert case_stamp("not-a-case") is None


def test_a_queued_action_and_each_of_its_state_changes_move_the_stamp(active_case, team_agent, queued_relays):
    before = case_stamp(active_case.pk)
    action = case_note_add(case=active_case, actor=team_agent, description="Called.")
    queued = case_stamp(active_case.pk)
    assert queued != before
    action.state = OutboxAction.State.FAILED
    action.save()
    assert case_stamp(active_case.pk) != queued


def test_a_relay_run_moves_the_stamp_at_each_outcome_though_it_writes_one_moment(
    active_case, team_agent, queued_relays
):
    action = case_note_add(case=active_case, actor=team_agent, description="Called.")
    stamps = {case_stamp(active_case.pk)}
    moment = action.updated_at
    for changes in (
        {"state": "sending", "attempts": 1},
        {"state": "pending"},
        {"state": "sending", "attempts": 2},
        {"state": "done"},
    ):
        OutboxAction.objects.filter(pk=action.pk).update(updated_at=moment, **changes)
        stamps.add(case_stamp(active_case.pk))
    assert len(stamps) == 5


@pytest.mark.parametrize(
    "write",
    [
        lambda case: ChatMessageFactory(case=case, role=ChatMessage.Role.CREDITOR),
        lambda case: TimelineItemFactory(case=case, position=99),
        lambda case: CaseFileFactory(case=case),
        lambda case: PaymentFactory(case=case),
        lambda case: Case.objects.filter(pk=case.pk).update(remainder=Decimal("1.23")),
        lambda case: Case.objects.filter(pk=case.pk).update(partner_reference="AG-1"),
    ],
    ids=["creditor message", "timeline item", "file", "payment", "remainder", "agency reference"],
)
def test_a_write_to_the_case_or_its_children_moves_the_stamp(active_case, write):
    before = case_stamp(active_case.pk)
    write(active_case)
    assert case_stamp(active_case.pk) != before


def test_a_creditor_message_seen_moves_the_stamp(active_case):
    message = ChatMessageFactory(case=active_case, role=ChatMessage.Role.CREDITOR, is_seen=False)
    before = case_stamp(active_case.pk)
    ChatMessage.objects.filter(pk=message.pk).update(is_seen=True)
    assert case_stamp(active_case.pk) != before


def test_a_refresh_that_finds_something_new_at_debitura_moves_the_stamp(active_case, sync_client, emulator):
    case_refresh(case_id=str(active_case.pk), client=sync_client)
    before = case_stamp(active_case.pk)
    emulator.creditor_message(str(active_case.pk), "Any news?")
    case_refresh(case_id=str(active_case.pk), client=sync_client)
    assert case_stamp(active_case.pk) != before


def test_stamps_of_several_cases_come_in_one_query(active_case, pending_case, django_assert_num_queries):
    with django_assert_num_queries(1):
        stamps = case_stamps([active_case.pk, pending_case.pk, uuid.uuid4()])
    assert stamps == {
        str(active_case.pk): case_stamp(active_case.pk),
        str(pending_case.pk): case_stamp(pending_case.pk),
    }
