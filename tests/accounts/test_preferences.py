"""A user's time zone: stored in accounts, put in the session at sign-in, used for every date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import UserPreference
from cases.models import Case
from tests.fixtures.case_list import make_cases

pytestmark = pytest.mark.django_db


def test_dates_are_shown_in_the_users_time_zone(client, agent):
    case = make_cases(1)[0]
    Case.objects.filter(id=case.id).update(remote_updated_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    UserPreference.objects.create(user=agent, time_zone="Asia/Tokyo")
    client.force_login(agent)
    assert "2025-03-02 08:30" in client.get("/cases/").content.decode()


def test_without_a_preference_dates_use_the_portal_time_zone(client, agent, settings):
    case = make_cases(1)[0]
    Case.objects.filter(id=case.id).update(remote_updated_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    client.force_login(agent)
    assert "2025-03-01 23:30" in client.get("/cases/").content.decode()  # TIME_ZONE is UTC in tests


def test_a_session_from_before_the_preference_reads_it_once(client, agent):
    UserPreference.objects.create(user=agent, time_zone="Europe/Copenhagen")
    client.force_login(agent)
    session = client.session
    del session["time_zone"]
    session.save()
    client.get("/cases/")
    assert client.session["time_zone"] == "Europe/Copenhagen"
