"""Debitura's payment ids name a payment within its case: matched there only, never moved.

Ids have repeated across cases: an emulator restarted with the same seed hands out the ids of
its first run again.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from cases.sync import case_children_refresh
from debitura.emulator import Emulator
from payments.actions import payment_record
from payments.models import Payment
from tests.fixtures.emulator import EMULATOR_API_KEY
from tests.fixtures.gateway import make_client
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db


def _record(case, agent, token):
    return payment_record(
        case=case,
        actor=agent,
        date=timezone.localdate(),
        amount=Decimal("10"),
        recipient="CollectionPartner",
        token=token,
    )


def test_a_new_payment_whose_id_repeats_another_cases_stays_on_its_case_with_its_action(
    team_agent, cases_by_lifecycle, relay
):
    first, second = cases_by_lifecycle("Active")[:2]
    action_first = _record(first, team_agent, "tok-first")
    relay()
    earlier = Payment.objects.get(pk=reload(action_first).payload["payment_id"])

    # The emulator restarts with the same seed: its next payment id is the one it gave before.
    restarted = Emulator(cases=50, seed=42, api_key=EMULATOR_API_KEY)
    with make_client(restarted.transport()) as client:
        action_second = _record(second, team_agent, "tok-second")
        relay(client=client)

    assert reload(action_second).state == "done"
    ours = Payment.objects.get(pk=action_second.payload["payment_id"])
    assert ours.remote_id == earlier.remote_id  # the id did repeat
    assert (ours.case_id, ours.state, ours.action_id) == (
        second.pk,
        Payment.State.CONFIRMED,
        action_second.pk,
    )
    earlier.refresh_from_db()
    assert (earlier.case_id, earlier.action_id) == (first.pk, action_first.pk)


def test_a_payment_debitura_lists_on_two_cases_is_kept_on_each_and_moved_from_neither(
    emulator, synced, cases_by_lifecycle
):
    owner = next(c for c in cases_by_lifecycle("Active") if emulator.state.cases[str(c.pk)].payments)
    other = next(c for c in cases_by_lifecycle("Active") if c.pk != owner.pk)
    case_children_refresh(case=owner, client=synced)
    shared = emulator.state.cases[str(owner.pk)].payments[0]
    with emulator.state.lock:
        emulator.state.cases[str(other.pk)].payments.append(shared)

    case_children_refresh(case=other, client=synced)

    copies = Payment.objects.filter(remote_id=shared.id)
    assert sorted(str(p.case_id) for p in copies) == sorted([str(owner.pk), str(other.pk)])
    case_children_refresh(case=owner, client=synced)
    assert Payment.objects.filter(remote_id=shared.id, case=owner).count() == 1
