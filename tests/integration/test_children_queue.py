"""The children queue with a real worker: a case whose children cannot be stored is recorded and
passed over, and every case behind it is refreshed in the same run."""

from __future__ import annotations

import pytest

from cases.models import Case
from cases.sync import ChildPriority
from tests.fixtures.cases import list_a_payment_twice
from tests.integration.workers import synced_with_team, wait_for, worker_env, workers_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_poisoned_case_at_the_head_of_the_queue_holds_up_none_behind_it(
    emulator_server, agent, settings, tmp_path, monkeypatch
):
    emulator = emulator_server.emulator
    synced_with_team(emulator_server, agent)
    poisoned = Case.objects.filter(lifecycle="Active").order_by("id").first()
    list_a_payment_twice(emulator, str(poisoned.pk))
    Case.objects.filter(pk=poisoned.pk).update(children_priority=ChildPriority.OPENED_BY_AGENT)
    behind = Case.objects.exclude(pk=poisoned.pk).count()
    env = worker_env(
        name="children-queue",
        settings=settings,
        server=emulator_server,
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
    )
    workers = workers_for(env, tmp_path)
    from cases.tasks import refresh_children_batch

    workers.start()
    try:
        refresh_children_batch.apply_async(queue=env["OUTBOX_TEST_QUEUE"])
        wait_for(
            lambda: Case.objects.filter(children_stale=False).count() == behind,
            seconds=120,
            what=f"the {behind} cases behind the poisoned one refreshed",
            log_path=tmp_path / "worker.log",
        )
    finally:
        workers.stop()

    poisoned.refresh_from_db()
    assert poisoned.children_stale
    assert "IntegrityError" in poisoned.children_error
    assert poisoned.children_failures == 1
