"""The role in the page header: read from the permissions the page has checked, without a query."""

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import ADMINISTRATOR, AGENT, SUPERVISOR, VIEWER, role_by_capability, role_of


def test_the_role_by_capability_is_the_role_by_group_for_every_role(make_user):
    users = {role: make_user(username=role.lower(), role=role) for role in (VIEWER, AGENT, SUPERVISOR)}
    users[ADMINISTRATOR] = make_user(username="admin", role=ADMINISTRATOR)
    users[None] = make_user(username="nobody")
    for role, user in users.items():
        assert role_of(user) == role_by_capability(user) == role
    both = make_user(username="both", role=AGENT)
    both.groups.add(Group.objects.get(name=SUPERVISOR))
    both = type(both).objects.get(pk=both.pk)  # a fresh permission cache, as a new request has
    assert role_by_capability(both) == SUPERVISOR


def test_the_header_names_the_role_without_a_query_of_its_own(client, supervisor):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/cases/").content.decode()
    assert '<small class="role">Supervisor</small>' in html
    # role_of read the user's groups; the permission check already read what the role needs.
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "auth_group"."id"')]


def test_a_signed_in_user_without_a_role_is_shown_as_such(client, make_user):
    client.force_login(make_user(username="nobody"))
    html = client.get("/").content.decode()
    assert "No role" in html
