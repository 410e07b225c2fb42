"""Every page needs a signed-in user, except the few that must not."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Pages an anonymous user may see: the login forms and the health probe.
PUBLIC = {"/accounts/login/", "/admin/login/", "/healthz"}
SAMPLES = {"int": "1", "uuid": str(uuid.uuid4()), "slug": "x", "str": "x", "path": "x/y"}


def _sample_regex(regex: str) -> str:
    def group(match: re.Match[str]) -> str:
        body = match.group(2)
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "1"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, regex)
    return text.lstrip("^").rstrip("$").replace("\\", "")


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        raw = str(entry.pattern)
        if "<" in raw and not raw.startswith("^"):
            part = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x"), raw)
        else:
            part = _sample_regex(raw)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            yield "/" + (prefix + part).lstrip("/")


ALL_URLS = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_pages_we_know():
    assert {"/", "/accounts/login/", "/admin/", "/healthz"} <= set(ALL_URLS)
    assert len(ALL_URLS) > 20  # admin alone has dozens


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in ALL_URLS if u not in PUBLIC])
def test_no_page_answers_an_anonymous_user(client, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (301, 302, 400, 403, 404, 405), (
            f"{method.__name__.upper()} {url} answered {response.status_code}"
        )
        if response.status_code in (301, 302):
            assert "/login/" in response["Location"], f"{url} redirects to {response['Location']}"


@pytest.mark.django_db
def test_public_pages_answer_anonymous_users(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code in (200, 503)


@pytest.mark.django_db
def test_login_with_good_credentials_lands_on_the_dashboard(client, agent):
    response = client.post(reverse("login"), {"username": "agent", "password": "pw-agent"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert b"No cases synced yet" in response.content
    assert b"Agent" in response.content  # the role is shown in the header


@pytest.mark.django_db
def test_login_with_a_wrong_password_says_so_and_keeps_the_username(client, agent):
    response = client.post(reverse("login"), {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert b'value="agent"' in response.content


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(agent_client):
    assert agent_client.get(reverse("dashboard")).status_code == 200
    assert agent_client.get(reverse("logout")).status_code == 405
    response = agent_client.post(reverse("logout"))
    assert response.status_code == 302
    assert agent_client.get(reverse("dashboard")).status_code == 302


@pytest.mark.django_db
def test_admin_link_only_for_staff(agent_client, client, administrator):
    assert b'href="/admin/"' not in agent_client.get("/").content
    client.force_login(administrator)
    assert b'href="/admin/"' in client.get("/").content
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_pages_carry_csrf_for_htmx_and_the_vendored_assets(agent_client):
    html = agent_client.get("/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/django_htmx/htmx" in html
    assert "/static/vendor/pico/pico.min.css" in html
    assert "http://" not in html.split("<body")[0].replace("http://www.w3.org", "")  # no CDN in <head>


@pytest.mark.django_db
def test_portal_and_admin_pages_name_their_icon_so_browsers_do_not_ask_for_a_missing_favicon(
    client, administrator
):
    client.force_login(administrator)
    for url in ("/", "/admin/", "/admin/cases/case/"):
        html = client.get(url).content.decode()
        assert '<link rel="icon" href="/static/img/favicon.svg"' in html, url
    assert finders.find("img/favicon.svg")
