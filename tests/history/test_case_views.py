"""Who opened which case: logged when the case page opens, at most once per user, case and window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from history.models import CaseView
from history.recording import VIEW_WINDOW_MINUTES, case_view_record
from tests.fixtures.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_opening_a_case_page_logs_who_opened_it_and_when(client, agent):
    case = CaseFactory()
    client.force_login(agent)
    before = timezone.now()

    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200

    (view,) = CaseView.objects.all()
    assert (view.user, view.case_id) == (agent, case.pk)
    assert before <= view.opened_at <= timezone.now()


def test_opening_it_again_within_the_window_adds_no_row_and_only_one_statement(client, agent):
    case = CaseFactory()
    client.force_login(agent)
    url = reverse("cases:detail", args=[case.pk])
    client.get(url)
    first = CaseView.objects.get()

    # The log costs one INSERT per load and no read; the database ignores this one.
    with CaptureQueriesContext(connection) as second:
        client.get(url)
    inserts = [q for q in second.captured_queries if "history_caseview" in q["sql"]]

    assert len(inserts) == 1
    assert inserts[0]["sql"].startswith("INSERT")
    assert list(CaseView.objects.all()) == [first]


def test_a_later_window_and_another_user_each_log_a_row(agent, supervisor):
    case = CaseFactory()
    now = timezone.now()

    case_view_record(case=case, user=agent, at=now)
    case_view_record(case=case, user=agent, at=now + timedelta(seconds=5))
    case_view_record(case=case, user=supervisor, at=now)
    case_view_record(case=case, user=agent, at=now + timedelta(minutes=VIEW_WINDOW_MINUTES))

    assert CaseView.objects.filter(user=agent).count() == 2
    assert CaseView.objects.filter(user=supervisor).count() == 1


def test_the_live_poller_logs_no_view(client, agent):
    case = CaseFactory()
    client.force_login(agent)

    client.get(reverse("cases:live", args=[case.pk]), {"v": "old"})

    assert not CaseView.objects.exists()
