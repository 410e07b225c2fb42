"""Demo users (published passwords) sign in only when DEBUG is on; `check --deploy` warns about them."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.checks import run_checks
from django.core.management import call_command

from accounts.demo import DEMO_USERNAMES, demo_password

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(settings):
    settings.DEBUG = True
    call_command("create_demo_users", stdout=io.StringIO())
    settings.DEBUG = False
    return get_user_model().objects.filter(username__in=DEMO_USERNAMES)


def sign_in(client, username, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": demo_password(username)})


@pytest.mark.parametrize("username", sorted(DEMO_USERNAMES))
def test_demo_users_are_refused_at_sign_in_when_debug_is_off(client, demo_users, username):
    response = sign_in(client, username)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "Demo users cannot sign in on this server (DEBUG is off)" in response.content.decode()


def test_the_demo_administrator_is_refused_at_the_admin_sign_in(client, demo_users):
    response = sign_in(client, "admin", url="/admin/login/?next=/admin/")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("username", sorted(DEMO_USERNAMES))
def test_demo_users_sign_in_when_debug_is_on(client, demo_users, settings, username):
    settings.DEBUG = True
    response = sign_in(client, username)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(demo_users.get(username=username).pk)


def test_a_demo_session_from_a_debug_server_ends_when_the_server_runs_without_debug(
    client, demo_users, settings
):
    settings.DEBUG = True
    sign_in(client, "admin")
    assert client.get("/admin/").status_code == 200
    settings.DEBUG = False  # the same database and session, served with DEBUG=0
    assert client.get("/admin/").status_code == 302
    assert client.get("/").url.startswith("/accounts/login/")


def test_a_demo_username_with_a_password_of_its_own_signs_in(client, demo_users):
    user = demo_users.get(username="admin")
    user.set_password("a-long-private-passphrase")
    user.save()
    response = client.post("/accounts/login/", {"username": "admin", "password": "a-long-private-passphrase"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_other_users_sign_in_when_debug_is_off(client, agent):
    response = client.post("/accounts/login/", {"username": "agent", "password": "pw-agent"})
    assert response.status_code == 302


def demo_warnings():
    return [m for m in run_checks(include_deployment_checks=True) if m.id == "accounts.W001"]


def test_check_deploy_warns_while_demo_users_exist(demo_users):
    (warning,) = demo_warnings()
    assert warning.msg == "Demo users with their published passwords exist: admin, agent, supervisor, viewer."


def test_check_deploy_is_quiet_without_demo_users_or_once_their_passwords_changed(demo_users):
    for user in demo_users.exclude(username="admin"):
        user.delete()
    admin = demo_users.get(username="admin")
    admin.set_password("a-long-private-passphrase")
    admin.save()
    assert demo_warnings() == []
