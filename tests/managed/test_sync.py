"""The submitted cases' sync: every case with its children at first, then only what changed
(newest change first, stopping at the last run's mark), and the children of changed cases only."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from managed.models import ManagedCase
from outbox.models import OutboxAction
from tests.fixtures.gateway import managed_case
from tests.fixtures.outbox import LATER
from tests.managed.conftest import submit_form

pytestmark = pytest.mark.django_db

CHILDREN = (
    "/managed-cases/{id}/timeline",
    "/managed-cases/{id}/chats",
    "/managed-cases/{id}/payments",
    "/managed-cases/{id}/files",
)


def requests_since(emulator, mark):
    return [(r.method, r.template) for r in emulator.request_log[mark:]]


def submitted_elsewhere(client, count, *, emulator=None, apart=0):
    """Cases submitted through Debitura's API by another integration (test cases, tagged)."""
    made = []
    for n in range(count):
        made.append(client.create_managed_case(managed_case(tag=f"other-{n}"), idempotency_key=f"other-{n}"))
        if emulator is not None and apart:
            emulator.advance_clock(apart)
    return made


def test_the_first_sync_brings_every_submitted_case_with_its_children(sync_client, emulator, managed_sync):
    made = submitted_elsewhere(sync_client, 3)
    production = sync_client.create_managed_case(managed_case(is_test=False), idempotency_key="prod-1")

    run = managed_sync()

    assert (run.created, run.updated, run.children) == (4, 0, 4)
    rows = {str(r.remote_id): r for r in ManagedCase.objects.all()}
    assert set(rows) == {c.id for c in [*made, production]}
    assert [rows[c.id].is_test_case for c in made] == [True, True, True]
    assert rows[production.id].is_test_case is False
    assert rows[production.id].partner_name == "Nordic Network Collections AB"
    assert rows[production.id].raw["id"] == production.id
    assert all(r.children_synced_at and not r.children_due for r in rows.values())
    assert rows[production.id].submission is None


def test_a_sync_with_nothing_changed_reads_one_page_and_no_children(sync_client, emulator, managed_sync):
    submitted_elsewhere(sync_client, 3)
    managed_sync()
    mark = len(emulator.request_log)

    run = managed_sync()

    assert requests_since(emulator, mark) == [("GET", "/managed-cases")]
    assert (run.created, run.updated, run.unchanged, run.children) == (0, 0, 3, 0)


def test_a_change_at_debitura_is_pulled_and_only_that_cases_children_are_read_again(
    sync_client, emulator, managed_sync, agent_client
):
    first, _second = submitted_elsewhere(sync_client, 2)
    managed_sync()
    emulator.advance_clock(60)
    sync_client.create_managed_payment(
        first.id, date=date.today() - timedelta(days=1), amount=Decimal("400.00")
    )
    mark = len(emulator.request_log)

    run = managed_sync()

    assert (run.updated, run.unchanged, run.children) == (1, 1, 1)
    children = [t for m, t in requests_since(emulator, mark) if t in CHILDREN]
    assert sorted(children) == sorted(CHILDREN)
    row = ManagedCase.objects.get(remote_id=first.id)
    assert row.remainder == first.remainder - Decimal("400.00")
    assert [Decimal(p["grossAmount"]) for p in row.payments] == [Decimal("400.00")]
    row.is_test_case = False  # shown without asking for test cases
    row.save()
    page = agent_client.get(reverse("managed:detail", args=[row.pk])).content.decode()
    assert "400.00" in page


def test_the_walk_stops_at_the_page_that_reaches_back_past_the_last_runs_mark(
    sync_client, emulator, managed_sync
):
    made = submitted_elsewhere(sync_client, 8, emulator=emulator, apart=600)
    assert managed_sync(page_size=2).pages == 4
    sync_client.create_managed_payment(
        made[0].id, date=date.today() - timedelta(days=1), amount=Decimal("10.00")
    )
    mark = len(emulator.request_log)

    run = managed_sync(page_size=2)

    # Page 1: the changed case and the newest of the last run; page 2 reaches back past the mark.
    assert run.pages == 2
    assert requests_since(emulator, mark).count(("GET", "/managed-cases")) == 2
    assert (run.updated, run.children) == (1, 1)


def test_a_case_the_sync_met_before_its_submission_was_answered_is_listed_once(
    agent_client, emulator, relay, managed_sync
):
    agent_client.post(reverse("managed:submit"), submit_form(is_test="on"))
    emulator.set_faults(timeout_rate=1.0, paths=["/managed-cases"], methods=["POST"])
    relay()
    emulator.clear_faults()
    managed_sync()
    assert ManagedCase.objects.count() == 2  # the submission, and the case as the sync met it

    relay(now=LATER)

    row = ManagedCase.objects.get()
    assert row.submission.state == OutboxAction.State.DONE
    assert str(row.remote_id) == next(iter(emulator.state.managed))
