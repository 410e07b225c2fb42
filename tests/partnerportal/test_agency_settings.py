"""Agency settings: the welcome template fills in placeholders and nothing else; reference patterns
are bounded; values saved before these checks cannot blow up a page."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Engine

from cases.forms import partner_reference_suggest, welcome_message_for
from cases.models import Case
from partnerportal.models import DEFAULT_WELCOME_TEMPLATE, WELCOME_FIELDS, AgencySettings

pytestmark = pytest.mark.django_db

ADMIN_URL = "/admin/partnerportal/agencysettings/1/change/"


def post_settings(client, **fields):
    values = {"welcome_message_template": DEFAULT_WELCOME_TEMPLATE, "partner_reference_pattern": "{seq}"}
    return client.post(ADMIN_URL, {**values, **fields})


@pytest.fixture
def admin_client(client, administrator):
    AgencySettings.load()
    client.force_login(administrator)
    return client


def field_errors(response, field):
    return list(response.context["adminform"].form.errors.get(field, []))


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("{seq:>5000000}", "{seq:>5000000}: widths above 20 are not allowed."),
        ("AG-{seq:0200d}", "{seq:0200d}: widths above 20 are not allowed."),
        ("{seq:.999}", "{seq:.999}: widths above 20 are not allowed."),
        ("{seq:{year}}", "{seq}: no fields inside a format."),
        ("{reference.__class__}", "Unknown field(s): {reference.__class__}."),
        ("{}-{seq}", "Unknown field(s): {}."),
        ("{year}", "Needs {seq} or {reference}: else every case gets the same reference."),
        ("{seq", "Not a valid pattern: expected '}' before end of string."),
        ("{reference:d}", "Not a valid pattern: Unknown format code 'd' for object of type 'str'"),
        ("{reference:>20}" * 6 + "{seq}", "Makes references longer than Debitura's 128 characters."),
    ],
)
def test_a_harmful_or_broken_reference_pattern_is_refused_next_to_the_field(admin_client, pattern, error):
    response = post_settings(admin_client, partner_reference_pattern=pattern)
    assert response.status_code == 200
    assert error in field_errors(response, "partner_reference_pattern")
    assert AgencySettings.load().partner_reference_pattern == "{year}-{seq:05d}"


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{% debug %}", "remove {% debug %}."),
        ("Dear {{ creditor_name|upper }}", "remove {{ creditor_name|upper }}."),
        ("{% load static %}{{ reference }}{% if x %}", "remove {% load static %}, {% if x %}."),
        ("{# note #}Hello", "remove {# note #}."),
        ("Hello {{ reference", "remove {{."),
        ("Hello {{ settings }}", "Unknown placeholder(s): settings."),
        ("x" * 5001, "Ensure this value has at most 5000 characters (it has 5001)."),
    ],
)
def test_a_welcome_template_with_anything_but_placeholders_is_refused(admin_client, template, error):
    response = post_settings(admin_client, welcome_message_template=template)
    assert response.status_code == 200
    assert any(error in message for message in field_errors(response, "welcome_message_template"))
    assert AgencySettings.load().welcome_message_template == DEFAULT_WELCOME_TEMPLATE


def test_placeholders_and_bounded_patterns_are_saved(admin_client):
    response = post_settings(
        admin_client,
        welcome_message_template="Hi {{creditor_name}}, case {{ reference }} ({{ agency_reference }}).",
        partner_reference_pattern="AG-{year}{month}-{seq:06d}",
    )
    assert response.status_code == 302
    settings = AgencySettings.load()
    assert settings.partner_reference_pattern == "AG-{year}{month}-{seq:06d}"
    assert settings.reference_render(seq=42, reference="R1", today=date(2030, 2, 1)) == "AG-203002-000042"


def test_a_template_of_placeholders_renders_as_django_rendered_it():
    values = {name: f"<{name} & co>" for name in WELCOME_FIELDS}
    django = (
        Engine(autoescape=False)
        .from_string(DEFAULT_WELCOME_TEMPLATE)
        .render(Context(values, autoescape=False))
    )
    settings = AgencySettings(welcome_message_template=DEFAULT_WELCOME_TEMPLATE)
    assert settings.welcome_render(values) == django.strip()


def test_placeholders_in_the_case_values_are_not_filled_in_again():
    settings = AgencySettings(welcome_message_template="To {{ creditor_name }} from {{ agent_name }}")
    values = {**dict.fromkeys(WELCOME_FIELDS, ""), "creditor_name": "{{ agent_name }}", "agent_name": "Ann"}
    assert settings.welcome_render(values) == "To {{ agent_name }} from Ann"


def test_values_saved_before_the_checks_cannot_blow_up_the_accept_form(pending_case, team_agent):
    # Saved around clean(), as they were before it checked them.
    AgencySettings.load()
    AgencySettings.objects.filter(pk=1).update(
        partner_reference_pattern="{seq:>5000000}",
        welcome_message_template="{% debug %}Dear {{ creditor_name }}",
    )
    settings = AgencySettings.load()
    with pytest.raises(ValidationError):
        settings.full_clean()

    assert partner_reference_suggest(case=pending_case, settings=settings) == ""
    Case.objects.filter(pk=pending_case.pk).update(creditor_name="Acme")
    pending_case.refresh_from_db()
    message = welcome_message_for(case=pending_case, settings=settings, agency_reference="", agent_name="A")
    assert message == "{% debug %}Dear Acme"


def test_the_case_page_stays_small_with_a_pattern_saved_before_the_checks(client, team_agent, pending_case):
    AgencySettings.load()
    AgencySettings.objects.filter(pk=1).update(partner_reference_pattern="{seq:>5000000}")
    client.force_login(team_agent)
    response = client.get(f"/cases/{pending_case.pk}/")
    assert response.status_code == 200
    assert 'id="action-accept"' in response.content.decode()
    assert len(response.content) < 200_000
