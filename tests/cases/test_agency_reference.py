"""The agency reference given on accept: kept locally at once, searchable, taken back if Debitura refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cases.actions import case_accept
from cases.models import Case
from cases.sync import cases_sync_incremental
from debitura.emulator import operations
from outbox.interventions import outbox_cancel, outbox_retry
from outbox.models import OutboxAction
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db

REFERENCE = "AG-2026-00042"
TYPING = {"HX-Request": "true", "HX-Trigger": "case-q"}  # a live search, never a jump to the case


def accept(case: Case, agent: Any) -> OutboxAction:
    return case_accept(
        case=case, actor=agent, welcome_message="We have taken over your case.", partner_reference=REFERENCE
    )


def found(client: Any, agent: Any, term: str = "2026-0004") -> bool:
    """Whether the list's search box finds the case by (part of) its agency reference."""
    client.force_login(agent)
    html = client.get("/cases/", {"tab": "all", "q": term}, headers=TYPING).content.decode()
    return REFERENCE in html


def test_the_reference_shows_in_the_header_and_is_found_as_soon_as_the_accept_is_queued(
    client, team_agent, pending_case, queued_relays
):
    accept(pending_case, team_agent)

    assert Case.objects.get(id=pending_case.id).partner_reference == REFERENCE
    client.force_login(team_agent)
    page = client.get(reverse("cases:detail", args=[pending_case.id])).content.decode()
    assert f'Agency reference <strong data-field="partner_reference">{REFERENCE}</strong>' in page
    assert found(client, team_agent)


def test_a_sync_while_the_accept_is_on_its_way_keeps_the_reference(
    client, team_agent, pending_case, emulator, synced, queued_relays
):
    accept(pending_case, team_agent)
    with emulator.state.lock:
        operations.case_change(emulator.state, emulator.state.case(str(pending_case.id)), 0)
    before = Case.objects.get(id=pending_case.id).remote_updated_at

    cases_sync_incremental(client=synced)

    case = Case.objects.get(id=pending_case.id)
    assert case.remote_updated_at > before
    assert case.partner_reference == REFERENCE
    assert found(client, team_agent)


def test_the_reference_stays_and_is_found_after_the_accept_is_done_and_the_case_re_read(
    client, team_agent, pending_case, emulator, relay
):
    action = accept(pending_case, team_agent)
    # A sync that read the case just before the accept committed wrote its search text back; the
    # relay's read-back of the started case (changed at Debitura) writes it with the reference.
    Case.objects.filter(id=pending_case.id).update(search_text=pending_case.search_text)

    relay()

    assert reload(action).state == OutboxAction.State.DONE
    assert emulator.state.case(str(pending_case.id)).partner_reference == REFERENCE
    assert Case.objects.get(id=pending_case.id).partner_reference == REFERENCE
    assert found(client, team_agent)


def test_a_refused_accept_takes_the_reference_back_and_a_retry_gives_it_again(
    client, team_agent, administrator, pending_case, emulator, relay
):
    action = accept(pending_case, team_agent)
    with emulator.state.lock:  # the creditor withdraws before the accept reaches Debitura
        operations.creditor_withdraw(emulator.state, emulator.state.case(str(pending_case.id)))

    relay()

    assert reload(action).state == OutboxAction.State.FAILED
    assert Case.objects.get(id=pending_case.id).partner_reference == ""
    assert not found(client, team_agent)
    outbox_retry(action=action, actor=administrator)
    assert Case.objects.get(id=pending_case.id).partner_reference == REFERENCE


def test_a_cancelled_accept_takes_the_reference_back(
    client, team_agent, administrator, pending_case, queued_relays
):
    action = accept(pending_case, team_agent)

    outbox_cancel(action=action, actor=administrator)

    assert Case.objects.get(id=pending_case.id).partner_reference == ""
    assert not found(client, team_agent)
