"""Signing in and out in a real browser."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_signs_in_sees_the_dashboard_and_signs_out(page, sign_in, agent):
    sign_in(agent)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_text("No cases synced yet").is_visible()
    assert page.locator(".who .role").inner_text() == "Agent"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto("/")
    assert "/accounts/login/?next=/" in page.url


def test_a_wrong_password_keeps_the_user_on_the_form_with_an_error(page, agent):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Username").input_value() == "agent"


def test_after_five_wrong_passwords_the_person_is_told_sign_in_is_paused(page, agent, settings):
    settings.AXES_ENABLED = True
    page.goto("/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("agent")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Sign-in paused").is_visible()
    assert "Try again in 15 minutes" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Back to sign in").click()
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("pw-agent")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Sign-in paused").is_visible()
