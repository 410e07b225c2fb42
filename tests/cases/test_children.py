"""Refreshing a case's children (timeline, chat, payments, files, exclusivity, validation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseFile, ChatMessage, ExclusivityExtension, TimelineItem, ValidationItem
from cases.sync import (
    CHILD_REQUESTS_PER_CASE,
    ChildPriority,
    case_children_refresh,
    case_children_request,
    case_refresh,
    cases_children_refresh_batch,
)
from payments.models import Payment
from tests.fixtures.cases import change_cases, hide_case

pytestmark = pytest.mark.django_db


def _remote(emulator, case_id):
    return emulator.state.cases[str(case_id)]


def test_children_refresh_stores_everything_debitura_lists(emulator, synced):
    rich = max(
        emulator.state.cases.values(),
        key=lambda c: (
            len(c.timeline) + len(c.chats) + len(c.payments) + len(c.files) + (1 if c.exclusive else 0)
        ),
    )
    case = Case.objects.get(id=rich.id)

    case_children_refresh(case=case, client=synced)

    case.refresh_from_db()
    assert not case.children_stale
    assert case.children_synced_at is not None
    assert ChatMessage.objects.filter(case=case).count() == len(rich.chats)
    assert CaseFile.objects.filter(case=case).count() == len(rich.files)
    assert Payment.objects.filter(case=case).count() == len(rich.payments)
    assert TimelineItem.objects.filter(case=case).count() >= 1
    assert ValidationItem.objects.filter(case=case).count() == len(rich.validation_items)
    if rich.exclusive:
        assert ExclusivityExtension.objects.filter(case=case).count() == len(rich.exclusive.extensions)
        assert case.exclusivity_start is not None
    remote_payment_ids = {p.id for p in rich.payments}
    assert {str(p.remote_id) for p in Payment.objects.filter(case=case)} == remote_payment_ids
    assert all(p.currency == case.currency for p in Payment.objects.filter(case=case))


def test_a_refresh_costs_a_fixed_number_of_requests_whatever_the_children(emulator, synced):
    case = Case.objects.first()
    before = sum(emulator.stats()["requests"].values())

    case_children_refresh(case=case, client=synced)

    assert sum(emulator.stats()["requests"].values()) - before == CHILD_REQUESTS_PER_CASE


def test_a_second_refresh_replaces_children_instead_of_adding(emulator, synced):
    case = Case.objects.first()
    case_children_refresh(case=case, client=synced)
    counts = (TimelineItem.objects.count(), ChatMessage.objects.count(), Payment.objects.count())

    case_children_refresh(case=case, client=synced)

    assert (TimelineItem.objects.count(), ChatMessage.objects.count(), Payment.objects.count()) == counts


def test_the_queue_serves_agent_opened_cases_then_open_cases_then_closed_ones(emulator, synced):
    Case.objects.update(children_stale=False)
    closed = Case.objects.filter(lifecycle="Closed").first()
    active = Case.objects.filter(lifecycle="Active").first()
    opened = Case.objects.filter(lifecycle="Closed").exclude(id=closed.id).first()
    Case.objects.filter(id__in=[closed.id, active.id]).update(children_stale=True)
    Case.objects.filter(id=closed.id).update(children_priority=ChildPriority.CLOSED)
    Case.objects.filter(id=active.id).update(children_priority=ChildPriority.OPEN)
    case_children_request(case=opened)  # an agent opens a closed case: it jumps the queue

    assert cases_children_refresh_batch(client=synced, limit=1) == 1
    assert not Case.objects.get(id=opened.id).children_stale
    assert cases_children_refresh_batch(client=synced, limit=1) == 1
    assert not Case.objects.get(id=active.id).children_stale
    assert Case.objects.get(id=closed.id).children_stale


def test_a_batch_never_takes_more_than_its_limit(emulator, synced):
    before = sum(emulator.stats()["requests"].values())

    done = cases_children_refresh_batch(client=synced, limit=3)

    assert done == 3
    assert sum(emulator.stats()["requests"].values()) - before == 3 * CHILD_REQUESTS_PER_CASE
    assert Case.objects.filter(children_stale=True).count() == Case.objects.count() - 3


def test_opening_a_case_with_fresh_children_queues_nothing(synced, django_capture_on_commit_callbacks):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(children_stale=False, children_synced_at=timezone.now())
    case.refresh_from_db()

    with django_capture_on_commit_callbacks() as callbacks:
        assert case_children_request(case=case) is False
    assert callbacks == []


def test_opening_a_case_with_old_children_queues_one_refresh(synced, django_capture_on_commit_callbacks):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(
        children_stale=False, children_synced_at=timezone.now() - timedelta(minutes=10)
    )
    case.refresh_from_db()

    with django_capture_on_commit_callbacks() as callbacks:
        assert case_children_request(case=case) is True
        case.refresh_from_db()
        assert case_children_request(case=case) is True  # a second look while queued: no new task
    assert len(callbacks) == 1
    assert Case.objects.get(id=case.id).children_priority == ChildPriority.OPENED_BY_AGENT


def test_a_changed_case_is_marked_for_a_child_refresh_by_the_next_sync(emulator, synced):
    from cases.sync import cases_sync_incremental

    Case.objects.update(children_stale=False)
    changed = change_cases(emulator, 2)

    cases_sync_incremental(client=synced)

    assert set(map(str, Case.objects.filter(children_stale=True).values_list("id", flat=True))) == set(
        changed
    )


def test_case_refresh_marks_a_case_debitura_no_longer_shows_as_gone(emulator, synced):
    case = Case.objects.first()
    hide_case(emulator, str(case.id))

    assert case_refresh(case_id=str(case.id), client=synced) is None
    assert Case.objects.get(id=case.id).gone_at is not None
