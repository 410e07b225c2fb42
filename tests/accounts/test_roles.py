from itertools import pairwise

from django.contrib.auth.models import Group

from accounts.roles import ADMINISTRATOR, AGENT, ROLE_PERMISSIONS, ROLES, SUPERVISOR, VIEWER, role_of
from accounts.services import user_set_role


def test_migrations_create_every_role_as_a_group(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


def test_each_role_has_every_permission_of_the_role_below(db):
    ladder = [VIEWER, AGENT, SUPERVISOR, ADMINISTRATOR]
    perms = {
        role: {
            f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role).permissions.all()
        }
        for role in ladder
    }
    for lower, higher in pairwise(ladder):
        assert perms[lower] < perms[higher], f"{higher} lacks some of {lower}'s permissions"


def test_viewer_can_view_but_not_work_cases(viewer):
    assert viewer.has_perm("accounts.view_cases")
    assert not viewer.has_perm("accounts.work_cases")


def test_agent_works_cases_but_cannot_reassign_or_export(agent):
    assert agent.has_perm("accounts.work_cases")
    assert not agent.has_perm("accounts.reassign_cases")
    assert not agent.has_perm("accounts.export_data")
    assert not agent.is_staff


def test_supervisor_reassigns_sees_everything_and_exports(supervisor):
    for perm in ROLE_PERMISSIONS[SUPERVISOR]:
        assert supervisor.has_perm(perm)
    assert not supervisor.is_staff


def test_administrator_is_staff_and_manages_users(administrator):
    assert administrator.is_staff
    assert administrator.has_perm("auth.change_user")
    assert administrator.has_perm("accounts.reassign_cases")


def test_staff_status_follows_the_administrator_role(administrator):
    user_set_role(user=administrator, role=AGENT)
    administrator.refresh_from_db()
    assert not administrator.is_staff
    user_set_role(user=administrator, role=ADMINISTRATOR)
    administrator.refresh_from_db()
    assert administrator.is_staff


def test_role_of_names_the_highest_role(make_user):
    user = make_user(username="both", role=AGENT)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    assert role_of(user) == SUPERVISOR
    assert role_of(make_user(username="nobody")) is None


def test_unknown_role_is_refused(agent):
    import pytest

    with pytest.raises(ValueError, match="Unknown role"):
        user_set_role(user=agent, role="Overlord")


def test_administrators_get_the_permissions_of_apps_installed_after_accounts(administrator):
    assert administrator.has_perm("cases.sync_cases")
    assert administrator.has_perm("outbox.change_outboxaction")
    assert administrator.has_perm("payments.view_payment")
