"""Pulling cases from the emulator into the local copy."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cases.models import Case, SyncRun
from cases.sync import CASE_COLUMNS, cases_sync_full, cases_sync_incremental, team_sync
from tests.fixtures.case_json import DATE_PATHS, DERIVED, FIELD_PATHS, UUID_PATHS, dig, remote_json, stamp
from tests.fixtures.cases import change_cases, hide_case, unhide_case

pytestmark = pytest.mark.django_db


def test_first_sync_stores_every_case_with_every_field_equal_to_debitura(emulator, sync_client):
    run = cases_sync_incremental(client=sync_client)

    total = len(emulator.state.cases)
    assert not run.error
    assert Case.objects.count() == total == run.created
    for case in Case.objects.order_by("reference")[::5]:
        remote = remote_json(emulator, str(case.id))
        for column, path in FIELD_PATHS.items():
            expected = dig(remote, path)
            actual = getattr(case, column)
            if isinstance(actual, Decimal) or isinstance(expected, Decimal):
                assert (actual is None and expected is None) or Decimal(actual) == Decimal(expected), column
            else:
                assert actual == (
                    expected if expected is not None else ("" if isinstance(actual, str) else expected)
                ), column
        for column, key in DATE_PATHS.items():
            assert getattr(case, column) == stamp(remote.get(key)), column
        for column, paths in UUID_PATHS.items():
            expected = next((value for path in paths if (value := dig(remote, path))), None)
            assert (str(getattr(case, column)) if getattr(case, column) else None) == expected, column
        lifecycle = remote["lifecycle"].replace(" ", "").lower()
        assert case.lifecycle.lower() == lifecycle
        assert case.get_lifecycle_display() == remote["lifecycle"]
        if remote.get("closeCode"):
            assert case.get_close_code_display().lower() == remote["closeCode"].lower()
        assert json.loads(json.dumps(case.raw), parse_float=Decimal) == remote
        assert case.gone_at is None
        assert case.reference.lower() in case.search_text
        assert (case.debtor_name or case.reference).lower() in case.search_text


def test_the_field_comparison_covers_every_column_the_sync_writes():
    compared = FIELD_PATHS.keys() | DATE_PATHS.keys() | UUID_PATHS.keys() | DERIVED

    assert set(CASE_COLUMNS) == compared


def test_an_incremental_sync_with_nothing_changed_costs_one_request(emulator, synced):
    before = emulator.stats()["requests"].get("GET /cases", 0)

    run = cases_sync_incremental(client=synced)

    assert emulator.stats()["requests"]["GET /cases"] - before == 1
    assert (run.created, run.updated) == (0, 0)
    assert run.unchanged > 0


def test_an_incremental_sync_touches_exactly_the_cases_that_changed(emulator, synced):
    untouched_before = dict(Case.objects.values_list("id", "remote_updated_at"))
    changed = set(change_cases(emulator, 25))

    run = cases_sync_incremental(client=synced)

    assert (run.created, run.updated) == (0, 25)
    for case in Case.objects.all():
        if str(case.id) in changed:
            assert case.raw != {}
            assert case.remote_updated_at > untouched_before[case.id]
            assert case.children_stale
        else:
            assert case.remote_updated_at == untouched_before[case.id]


def test_a_new_assignment_arrives_with_the_next_incremental_sync(emulator, synced):
    (new,) = emulator.new_assignment()

    run = cases_sync_incremental(client=synced)

    assert (run.created, run.updated) == (1, 0)
    case = Case.objects.get(id=new.id)
    assert case.lifecycle == "PendingVerification"
    assert case.children_stale


def test_a_full_reconcile_marks_cases_no_longer_visible_as_gone_and_keeps_them(emulator, synced):
    vanished = sorted(emulator.state.cases)[0]
    hide_case(emulator, vanished)

    run = cases_sync_full(client=synced)

    assert run.gone == 1
    case = Case.objects.get(id=vanished)
    assert case.gone_at is not None
    assert Case.objects.filter(gone_at__isnull=True).count() == len(emulator.state.cases)


def test_a_gone_case_that_comes_back_is_visible_again(emulator, synced):
    vanished_id = sorted(emulator.state.cases)[0]
    vanished = hide_case(emulator, vanished_id)
    cases_sync_full(client=synced)
    unhide_case(emulator, vanished)

    run = cases_sync_full(client=synced)

    assert run.gone == 0
    assert Case.objects.get(id=vanished_id).gone_at is None


def test_a_failed_sync_is_recorded_with_the_reason_and_marks_nothing_gone(emulator, synced):
    emulator.set_faults(error_rate=1.0)

    run = cases_sync_full(client=synced)

    assert run.error
    assert run.finished_at is not None
    assert not Case.objects.filter(gone_at__isnull=False).exists()
    assert SyncRun.objects.latest().error == run.error


def test_team_members_are_linked_to_portal_users_by_email(emulator, sync_client, make_user):
    with emulator.state.lock:
        member = next(u for u in emulator.state.users.values() if u.active)
    user = make_user(username="linked", email=member.email.upper())

    members = team_sync(client=sync_client)

    linked = next(m for m in members if str(m.id) == member.id)
    assert linked.user == user
    assert len(members) == len([u for u in emulator.state.users.values() if u.active])


def test_a_case_with_a_nul_character_in_its_text_is_stored_without_it(emulator, synced):
    # PostgreSQL's text columns cannot hold NUL; Debitura's data is not ours to trust.
    case_id = change_cases(emulator, 1)[0]
    with emulator.state.lock:
        remote = emulator.state.cases[case_id]
        remote.debtor.name = "Evil\x00 Debtor"

    run = cases_sync_incremental(client=synced)

    assert run.updated == 1
    assert Case.objects.get(id=case_id).debtor_name == "Evil Debtor"
