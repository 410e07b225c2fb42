from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import SyncRun

pytestmark = pytest.mark.django_db


def badge(client) -> str:
    return client.get(reverse("sync_badge")).content.decode()


def test_before_any_sync_the_badge_says_so(agent_client):
    assert "Not synced yet" in badge(agent_client)


def test_after_a_sync_the_badge_says_how_long_ago(agent_client):
    now = timezone.now()
    SyncRun.objects.create(
        kind="incremental", started_at=now - timedelta(minutes=3), finished_at=now - timedelta(minutes=3)
    )
    assert "Synced 3\xa0minutes ago" in badge(agent_client)


def test_a_running_sync_shows_syncing(agent_client):
    SyncRun.objects.create(
        kind="incremental",
        finished_at=timezone.now() - timedelta(minutes=5),
        started_at=timezone.now() - timedelta(minutes=5),
    )
    SyncRun.objects.create(kind="incremental")
    assert "Syncing" in badge(agent_client)


def test_failing_syncs_show_since_when_and_why(agent_client):
    now = timezone.now()
    SyncRun.objects.create(
        kind="incremental", started_at=now - timedelta(minutes=30), finished_at=now - timedelta(minutes=30)
    )
    first = SyncRun.objects.create(
        kind="incremental",
        started_at=now - timedelta(minutes=20),
        finished_at=now,
        error="Debitura could not be reached (GET /cases).",
    )
    SyncRun.objects.create(
        kind="incremental",
        started_at=now - timedelta(minutes=1),
        finished_at=now,
        error="Debitura could not be reached (GET /cases).",
    )
    html = badge(agent_client)
    assert "Debitura unreachable since" in html
    assert timezone.localtime(first.started_at).strftime("%H:%M") in html
    assert "could not be reached" in html


def test_error_text_from_the_api_is_escaped(agent_client):
    SyncRun.objects.create(kind="incremental", finished_at=timezone.now(), error="<script>alert(1)</script>")
    html = badge(agent_client)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_the_dashboard_counts_cases_by_lifecycle(agent_client, synced):
    html = agent_client.get("/").content.decode()
    assert "cases in the local copy" in html
    assert "Pending Verification" in html


def test_the_dashboard_counts_match_the_case_table_without_reading_it(agent_client, synced):
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from cases.models import Case

    # Test cases are left out, as in the case list.
    shown = Case.objects.filter(gone_at__isnull=True, is_test_case=False)
    expected = shown.values("lifecycle").annotate(n=Count("id"))
    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get("/")
    # Only the navigation's unread count, on the partial index of cases with unread messages.
    reads = [q["sql"] for q in queries if '"cases_case"' in q["sql"]]
    assert len(reads) == 1, reads
    assert '"unread_messages" > 0' in reads[0]
    rows = {row.label: row.all for row in response.context["lifecycles"].rows if row.all}
    labels = dict(Case._meta.get_field("lifecycle").flatchoices)
    assert rows == {labels[row["lifecycle"]]: row["n"] for row in expected}
    assert response.context["case_count"] == sum(row["n"] for row in expected)


@pytest.fixture
def progress_uncached():
    from django.core.cache import cache

    cache.delete("cases:children-progress")
    yield
    cache.delete("cases:children-progress")


def test_while_case_details_arrive_the_header_dashboard_and_ledger_say_how_far(
    client, supervisor, synced, progress_uncached
):
    from cases.models import Case
    from cases.sync import cases_children_refresh_batch, children_progress_measure

    client.force_login(supervisor)
    total = Case.objects.count()
    cases_children_refresh_batch(client=synced, limit=5)
    children_progress_measure()

    assert f"Case details {5 * 100 // total}%" in badge(client)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f"files of\n  5 of {total} cases so far" in dashboard
    assert "Until then those cases show no payments" in dashboard
    ledger = client.get(reverse("payments:ledger")).content.decode()
    assert "Payments of the other cases are not in this ledger yet." in ledger


def test_once_every_case_has_its_details_nothing_more_is_said(client, supervisor, synced, progress_uncached):
    from cases.sync import cases_children_refresh_batch, children_progress_measure

    client.force_login(supervisor)
    cases_children_refresh_batch(client=synced)
    children_progress_measure()

    assert "Case details" not in badge(client)
    assert "still arriving" not in client.get(reverse("dashboard")).content.decode()
    assert "still arriving" not in client.get(reverse("payments:ledger")).content.decode()
