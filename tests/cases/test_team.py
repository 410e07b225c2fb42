"""One mapping between Debitura's team and portal users: the sync, "My cases", the accept form, the actor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse

from cases.actions import actor_team_email
from cases.models import Case, TeamMember
from cases.panel import accept_form_empty
from cases.reassign import cases_reassign
from cases.sync import cases_sync_incremental, team_sync
from cases.team import team_member_for, team_member_link

pytestmark = pytest.mark.django_db


def references_in(html: str) -> set[str]:
    return set(re.findall(r'<a href="/cases/[0-9a-f-]{36}/">([^<]+)</a>', html))


def busiest_member(emulator: Any) -> Any:
    """The active seeded member with the most (production) cases at Debitura."""
    with emulator.state.lock:
        counts: dict[str, int] = {}
        for case in emulator.state.cases.values():
            if case.assigned_user_id and not case.is_test:
                counts[case.assigned_user_id] = counts.get(case.assigned_user_id, 0) + 1
        return max((u for u in emulator.state.users.values() if u.active), key=lambda u: counts.get(u.id, 0))


def their_references(emulator: Any, member: Any) -> set[str]:
    with emulator.state.lock:
        return {
            c.reference
            for c in emulator.state.cases.values()
            if c.assigned_user_id == member.id and not c.is_test
        }


def test_linking_a_member_in_admin_puts_their_cases_in_the_users_my_cases(
    client, administrator, agent, synced, emulator
):
    team_sync(client=synced)
    member = busiest_member(emulator)
    assert not Case.objects.filter(assigned_to=agent).exists()
    client.force_login(administrator)

    response = client.post(
        reverse("admin:cases_teammember_change", args=[member.id]), {"user": agent.pk, "_save": "Save"}
    )

    assert response.status_code == 302
    assert TeamMember.objects.get(id=member.id).user == agent
    client.force_login(agent)
    mine = references_in(client.get("/cases/", {"tab": "mine"}).content.decode())
    assert mine
    assert mine == their_references(emulator, member) & mine
    assert Case.objects.filter(assigned_to=agent, is_test_case=False).count() == len(
        their_references(emulator, member)
    )


def test_the_sync_gives_a_linked_members_new_cases_to_the_linked_user(agent, emulator, sync_client):
    member = busiest_member(emulator)
    TeamMember.objects.create(id=member.id, name=member.name, email=member.email, user=agent)

    cases_sync_incremental(client=sync_client)

    assigned = Case.objects.filter(assigned_to=agent, is_test_case=False).values_list("reference", flat=True)
    assert set(assigned) == their_references(emulator, member)


def test_the_team_sync_keeps_a_link_an_administrator_set(make_user, agent, emulator, sync_client):
    member = busiest_member(emulator)
    make_user(username="namesake", email=member.email.upper())
    TeamMember.objects.create(id=member.id, name=member.name, email=member.email, user=agent)

    team_sync(client=sync_client)

    assert TeamMember.objects.get(id=member.id).user == agent


def test_the_team_sync_links_a_new_member_to_the_user_with_the_same_email(make_user, emulator, sync_client):
    member = busiest_member(emulator)
    namesake = make_user(username="namesake", email=member.email.upper())

    team_sync(client=sync_client)

    assert TeamMember.objects.get(id=member.id).user == namesake


def test_a_case_reassigned_in_the_portal_stays_when_the_member_is_linked(
    agent, supervisor, make_user, synced, emulator
):
    team_sync(client=synced)
    member = busiest_member(emulator)
    colleague = make_user(username="colleague")
    kept = Case.objects.filter(debitura_assignee_email=member.email).first()
    cases_reassign(case_ids=[kept.id], assignee=colleague, actor=supervisor)

    moved = team_member_link(member=TeamMember.objects.get(id=member.id), user=agent)

    assert moved == Case.objects.filter(debitura_assignee_email=member.email).count() - 1
    kept.refresh_from_db()
    assert kept.assigned_to == colleague


def test_unlinking_gives_the_cases_back_to_the_user_with_the_members_email(
    agent, make_user, synced, emulator
):
    team_sync(client=synced)
    member = TeamMember.objects.get(id=busiest_member(emulator).id)
    team_member_link(member=member, user=agent)
    namesake = make_user(username="namesake", email=member.email)

    team_member_link(member=member, user=None)

    cases = Case.objects.filter(debitura_assignee_email=member.email)
    assert cases.exists()
    assert set(cases.values_list("assigned_to", flat=True)) == {namesake.pk}


def test_a_user_acts_as_the_linked_member_else_the_member_with_their_email(make_user, agent, emulator):
    seeded = [u for u in emulator.state.users.values() if u.active]
    first = seeded[0]
    linked = TeamMember.objects.create(id=first.id, name=first.name, email=first.email, user=agent)
    same_email = make_user(username="same", email=seeded[1].email.upper())
    unlinked = TeamMember.objects.create(id=seeded[1].id, name=seeded[1].name, email=seeded[1].email)
    taken = make_user(username="taken", email=seeded[0].email)

    assert team_member_for(user=agent).email == linked.email
    assert team_member_for(user=same_email).email == unlinked.email
    # Linked to someone else: that person is the member, not whoever shares the address.
    assert team_member_for(user=taken) is None
    assert actor_team_email(agent) == seeded[0].email


def test_the_accept_form_preselects_the_member_a_user_is_by_email(make_user, agent, synced, emulator):
    team_sync(client=synced)
    member = busiest_member(emulator)
    TeamMember.objects.filter(id=member.id).update(user=None)
    user = make_user(username="late", email=member.email)  # created after the last team sync
    pending = emulator.new_assignment(claim_type="Unpaid Invoice", disputed=False)[0]
    cases_sync_incremental(client=synced)
    request = RequestFactory().get("/")
    request.user = user

    form = accept_form_empty(request, Case.objects.get(id=pending.id))

    assert form.initial["assigned_user_email"] == member.email
