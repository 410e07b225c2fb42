"""Sign-in throttling (django-axes): failures lock out the user and the address for a while."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory

from accounts.signin import request_client_address

pytestmark = pytest.mark.django_db

HOME = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def throttling(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def attempt(user, password=None, *, address=HOME, url="/accounts/login/", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(url, {"username": user.username, "password": password or f"pw-{user.username}"})
    return response, client


def test_thirty_wrong_passwords_then_the_right_one_is_refused(agent):
    statuses = [attempt(agent, "wrong")[0].status_code for _ in range(30)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}  # the fifth failure locks

    response, client = attempt(agent)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    page = response.content.decode()
    assert "Sign-in paused" in page
    assert "Too many failed sign-ins (5) for this user or from this address." in page
    assert "Try again in 15 minutes" in page


def test_a_locked_user_is_refused_from_another_address_too(agent):
    for _ in range(5):
        attempt(agent, "wrong")
    response, client = attempt(agent, address=ELSEWHERE)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_another_user_from_a_locked_address_is_refused_and_from_elsewhere_signs_in(agent, supervisor):
    for _ in range(5):
        attempt(agent, "wrong")
    assert attempt(supervisor)[0].status_code == 429
    response, client = attempt(supervisor, address=ELSEWHERE)
    assert response.status_code == 302
    assert SESSION_KEY in client.session


def test_guessing_one_password_each_for_many_users_locks_the_address(make_user):
    users = [make_user() for _ in range(6)]
    for user in users[:5]:
        attempt(user, "Summer2025!")
    assert attempt(users[5])[0].status_code == 429


def test_the_admin_sign_in_is_throttled_too(administrator):
    statuses = [attempt(administrator, "wrong", url="/admin/login/")[0].status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert attempt(administrator, url="/admin/login/")[0].status_code == 429


def test_an_administrator_sees_the_lockout_and_lifts_it_in_django_admin(agent, administrator):
    for _ in range(5):
        attempt(agent, "wrong")
    admin = Client()
    admin.force_login(administrator)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "agent" in listing.content.decode()
    assert HOME in listing.content.decode()

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    response, client = attempt(agent)
    assert response.status_code == 302
    assert SESSION_KEY in client.session


def test_behind_a_proxy_failures_count_against_the_address_the_proxy_saw(agent, supervisor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(5):
        # The client makes up the left part of X-Forwarded-For; the proxy appends what it saw.
        attempt(agent, "wrong", address=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {HOME}")
    assert AccessAttempt.objects.get().ip_address == HOME
    assert attempt(supervisor, address=proxy, HTTP_X_FORWARDED_FOR=HOME)[0].status_code == 429
    assert attempt(supervisor, address=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)[0].status_code == 302


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),  # no proxy trusted: the header is the client's word
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),
        (2, "6.6.6.6, 192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "192.0.2.1", "10.0.0.2"),  # fewer hops than proxies: it did not come through them
        (1, "", "10.0.0.2"),
        (1, "unknown", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert request_client_address(request) == expected
