"""The case list's rows: the unread marker, the exclusive period, the agency reference, and titles
holding what a cut cell cannot show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, LifecycleChoices
from tests.fixtures.case_list import LIST, make_cases

pytestmark = pytest.mark.django_db


def row_of(html: str, case: Case) -> str:
    start = html.index(f'<tr id="case-row-{case.id}"')
    return html[start : html.index("</tr>", start)]


# --- Rows -------------------------------------------------------------------------------------


def test_a_case_with_unread_messages_is_marked_in_its_row_with_the_count(agent_client):
    unread, read = make_cases(2)
    Case.objects.filter(pk=unread.pk).update(unread_messages=3)
    html = agent_client.get(LIST).content.decode()
    marked = row_of(html, unread)
    assert '<span class="badge badge-unread">✉ 3<span class="visually-hidden"> unread</span></span>' in marked
    assert 'title="3 unread messages"' in marked
    assert "unread" not in row_of(html, read)


def test_the_exclusive_period_shows_its_end_marked_when_it_ends_soon_or_is_over(agent_client):
    now = timezone.now()
    running, ending, ended, expired, none = make_cases(5)
    Case.objects.filter(pk=running.pk).update(exclusive_period_end=now + timedelta(days=90))
    Case.objects.filter(pk=ending.pk).update(exclusive_period_end=now + timedelta(days=10))
    Case.objects.filter(pk=ended.pk).update(exclusive_period_end=now - timedelta(days=3))
    Case.objects.filter(pk=expired.pk).update(
        exclusive_period_end=now + timedelta(days=90), exclusivity_status="Expired"
    )
    html = agent_client.get(LIST).content.decode()
    assert ">Exclusive</th>" in html
    day = timezone.localdate(now + timedelta(days=90)).isoformat()
    shown = rf'class="exclusive exclusive-running" title="[^"]*until {day}: \d+ days left">{day}<'
    assert re.search(shown, row_of(html, running))
    assert "exclusive-ending" in row_of(html, ending)
    assert "days left" in row_of(html, ending)
    assert "exclusive-over" in row_of(html, ended)
    assert ": ended" in row_of(html, ended)
    assert "exclusive-over" in row_of(html, expired)
    assert ": expired" in row_of(html, expired)
    assert 'class="exclusive' not in row_of(html, none)


def test_a_row_says_what_it_cannot_fit_in_its_titles(agent_client):
    long_name = "Aktieselskabet Meget Lang Skibsværftsvirksomhed og Søn i Likvidation"
    L = LifecycleChoices
    (closed,) = make_cases(1, lifecycle=L.CLOSED, close_code="PartiallyPaid", debtor_name=long_name)
    (pending,) = make_cases(1, lifecycle=L.PENDING_VERIFICATION, dispute_status="Yes, disputed")
    (active,) = make_cases(1, engagement_phase="Legal", partner_reference="AG-2026-00042")
    html = agent_client.get(LIST).content.decode()
    assert f'<span class="cut" title="{long_name}">{long_name}</span>' in row_of(html, closed)
    assert 'title="Closed · Partially Paid"' in row_of(html, closed)
    assert 'title="new: not opened yet, the creditor says the claim is disputed"' in row_of(html, pending)
    assert "of 1 business day since assignment" in row_of(html, pending)
    assert 'title="Active · Legal"' in row_of(html, active)
    assert '<span class="cut" title="AG-2026-00042">AG-2026-00042</span>' in row_of(html, active)
    # A case the portal has no agency reference for says why.
    assert "no agency reference" in row_of(html, closed)
    assert "None" not in html
