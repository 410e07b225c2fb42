"""Refreshing a case's children (timeline, chat, payments, files, exclusivity, validation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import Case, CaseFile, ChatMessage, ExclusivityExtension, TimelineItem, ValidationItem
from cases.sync import (
    CHILD_REQUESTS_PER_CASE,
    ChildPriority,
    case_children_refresh,
    case_children_refresh_isolated,
    case_children_request,
    case_refresh,
    cases_children_refresh_batch,
    children_backoff,
)
from payments.models import Payment
from tests.fixtures.cases import change_cases, hide_case, list_a_payment_twice

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


# --- One bad case never holds up the queue ---------------------------------------------------------


def _queue_behind(poisoned: Case, count: int) -> list[Case]:
    """Mark `count` other cases stale behind the poisoned one, which an agent opened (first in line)."""
    Case.objects.update(children_stale=False)
    behind = list(Case.objects.exclude(id=poisoned.id).order_by("id")[:count])
    Case.objects.filter(id__in=[c.id for c in behind]).update(children_stale=True)
    Case.objects.filter(id=poisoned.id).update(
        children_stale=True, children_priority=ChildPriority.OPENED_BY_AGENT
    )
    return behind


def test_a_case_whose_children_cannot_be_stored_does_not_stop_the_ten_behind_it(emulator, synced):
    poisoned = Case.objects.filter(lifecycle="Active").order_by("id").first()
    list_a_payment_twice(emulator, str(poisoned.id))
    behind = _queue_behind(poisoned, 10)

    assert cases_children_refresh_batch(client=synced, limit=11) == 11

    assert not Case.objects.filter(id__in=[c.id for c in behind], children_stale=True).exists()
    poisoned.refresh_from_db()
    assert poisoned.children_stale
    assert poisoned.children_failures == 1
    assert "IntegrityError" in poisoned.children_error
    assert poisoned.children_retry_at > timezone.now()
    # Nothing of the failed refresh was kept: the savepoint took it back whole.
    assert not TimelineItem.objects.filter(case=poisoned).exists()


def test_a_failed_case_waits_out_its_backoff_and_each_failure_doubles_it_up_to_the_cap(emulator, synced):
    poisoned = Case.objects.filter(lifecycle="Active").order_by("id").first()
    list_a_payment_twice(emulator, str(poisoned.id))
    _queue_behind(poisoned, 1)
    cases_children_refresh_batch(client=synced, limit=2)
    before = sum(emulator.stats()["requests"].values())

    assert cases_children_refresh_batch(client=synced, limit=5) == 0  # backed off: nothing due

    assert sum(emulator.stats()["requests"].values()) == before
    Case.objects.filter(id=poisoned.id).update(children_retry_at=timezone.now())
    assert cases_children_refresh_batch(client=synced, limit=5) == 1
    poisoned.refresh_from_db()
    assert poisoned.children_failures == 2
    assert timedelta(minutes=1) < poisoned.children_retry_at - timezone.now() <= timedelta(minutes=2)
    assert [children_backoff(n) for n in (1, 2, 3, 7, 8, 50)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 60, 60, 60)
    ]


def test_a_case_that_refreshes_again_forgets_its_error(emulator, synced):
    case = Case.objects.filter(lifecycle="Active").order_by("id").first()
    Case.objects.filter(id=case.id).update(
        children_error="IntegrityError: earlier", children_failures=3, children_retry_at=timezone.now()
    )
    case.refresh_from_db()

    assert case_children_refresh_isolated(case=case, client=synced) is True

    case.refresh_from_db()
    assert (case.children_error, case.children_failures, case.children_retry_at) == ("", 0, None)


def test_a_chat_message_debitura_lists_on_two_cases_is_not_moved_and_the_second_case_says_why(
    emulator, synced
):
    with emulator.state.lock:
        first, second = [c for c in sorted(emulator.state.cases.values(), key=lambda c: c.id) if c.chats][:2]
        second.chats.append(first.chats[0])
    owner, other = Case.objects.get(id=first.id), Case.objects.get(id=second.id)
    case_children_refresh(case=owner, client=synced)

    assert case_children_refresh_isolated(case=other, client=synced) is False

    assert ChatMessage.objects.get(id=first.chats[0].id).case_id == owner.id
    other.refresh_from_db()
    assert f"belongs to case {owner.reference}" in other.children_error
    assert other.children_stale


def test_a_transient_failure_stops_the_batch_without_blaming_the_case(emulator, synced):
    from debitura.errors import TransientError

    case = Case.objects.filter(lifecycle="Active").order_by("id").first()
    _queue_behind(case, 3)
    emulator.set_faults(error_rate=1.0, paths=["/cases/{id}/timeline"])

    with pytest.raises(TransientError):
        cases_children_refresh_batch(client=synced, limit=4)

    case.refresh_from_db()
    assert (case.children_error, case.children_failures, case.children_stale) == ("", 0, True)


# --- The unused part of the rate limit ---------------------------------------------------------------


@pytest.fixture
def chosen_shares(monkeypatch, synced):
    """Which background client each case went through: True for the idle share, else False."""
    from cases.sync import children_queue

    chosen: list[bool] = []

    def client(*, spare: bool = False):
        chosen.append(spare)
        return synced

    monkeypatch.setattr(children_queue, "children_client", client)
    return chosen


def test_with_no_agent_action_waiting_the_queue_uses_the_idle_share(chosen_shares):
    assert cases_children_refresh_batch(limit=3) == 3
    assert chosen_shares == [True, True, True]


def test_while_an_agent_action_waits_the_queue_keeps_to_its_share(chosen_shares, active_case, team_agent):
    from cases.actions import case_note_add

    case_note_add(case=active_case, actor=team_agent, description="Called the debtor.")

    assert cases_children_refresh_batch(limit=2) == 2
    assert chosen_shares == [False, False]


def test_a_batch_goes_on_until_its_time_is_spent(emulator, synced):
    assert cases_children_refresh_batch(client=synced, seconds=0) == 1  # one case, then the time is up
    stale = Case.objects.filter(children_stale=True).count()
    assert cases_children_refresh_batch(client=synced) == stale  # 18 s is plenty for the rest
    assert not Case.objects.filter(children_stale=True).exists()


# --- How far the first import is -------------------------------------------------------------------


@pytest.fixture
def fresh_progress():
    from django.core.cache import cache

    cache.delete("cases:children-progress")
    yield
    cache.delete("cases:children-progress")


def test_progress_counts_the_cases_whose_children_arrived_and_measures_the_rate(
    emulator, synced, fresh_progress
):
    from cases.sync import children_progress, children_progress_measure

    total = Case.objects.count()
    cases_children_refresh_batch(client=synced, limit=10)
    children_progress_measure()

    progress = children_progress()

    assert (progress.done, progress.total, progress.percent) == (10, total, 10 * 100 // total)
    assert progress.measured
    assert progress.per_minute == 30  # ten within the first beat (20 s) of the import
    assert progress.left_in_words == f"about {round((total - 10) / 30)} min"


def test_before_anything_arrived_the_estimate_comes_from_the_rate_limit(synced, fresh_progress, settings):
    from cases.sync import children_progress_measure

    settings.DEBITURA_CHILDREN_IDLE_SHARE = 0.9
    progress = children_progress_measure()

    assert (progress.done, progress.measured) == (0, False)
    assert progress.per_minute == 2000 * 0.9 / CHILD_REQUESTS_PER_CASE  # 300 cases a minute
    assert progress.incomplete


def test_a_batch_spends_no_more_than_its_share_of_the_minute_in_its_time(chosen_shares, settings):
    settings.DEBITURA_CHILDREN_IDLE_SHARE, settings.DEBITURA_CHILDREN_SHARE = 0.09, 0.03
    # In 10 s: 9% of 2,000 a minute is 30 requests, five cases of six.
    assert cases_children_refresh_batch(seconds=10) == 5


def test_with_an_agent_action_waiting_a_batch_spends_the_smaller_share(
    chosen_shares, settings, active_case, team_agent
):
    from cases.actions import case_note_add

    settings.DEBITURA_CHILDREN_IDLE_SHARE, settings.DEBITURA_CHILDREN_SHARE = 0.09, 0.03
    case_note_add(case=active_case, actor=team_agent, description="Called the debtor.")

    assert cases_children_refresh_batch(seconds=10) == 1  # 3% of 2,000 in 10 s: ten requests


def test_the_background_clients_keep_the_minute_to_their_share_and_the_hour_to_the_idle_one(
    settings, tmp_path, monkeypatch
):
    from cases.sync import children_client, children_queue

    settings.VAR_DIR, settings.CELERY_BROKER_URL = tmp_path, "filesystem://"
    monkeypatch.setattr(children_queue, "_children_clients", {})

    def limits(spare: bool) -> list[int]:
        throttle: Any = children_client(spare=spare)._throttle
        return [window.limit for window in throttle.buckets[1].windows]

    assert limits(True) == [1800, 18_000, 90_000]
    # An import that ran at the idle share for an hour does not stop for the next one when an
    # agent acts: only the minute drops to the children share.
    assert limits(False) == [500, 18_000, 90_000]


def test_the_beats_task_measures_the_progress_after_a_batch_and_stops_once_all_arrived(
    debitura_is_emulator, fresh_progress, django_assert_max_num_queries
):
    from cases.models import ChildrenProgress
    from cases.sync import cases_children_queue_run

    assert cases_children_queue_run() == Case.objects.count()
    progress = ChildrenProgress.objects.get()
    assert (progress.done, progress.incomplete) == (Case.objects.count(), False)

    with django_assert_max_num_queries(3):  # nothing stale, the row says done: no count
        assert cases_children_queue_run() == 0
