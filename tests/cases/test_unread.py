"""Unread messages from the creditor: raised by a refresh or a webhook, cleared as an agent opens the case."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import RequestFactory
from django.urls import reverse

from cases.context_processors import unread
from cases.models import Case, ChatMessage, WebhookSubscription
from cases.sync import case_children_refresh
from cases.unread import case_unread_recount, unread_total
from tests.fixtures.emulator import EMULATOR_API_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def emulator_http(emulator: Any) -> Any:
    """Plain HTTP to the in-process emulator: its control endpoints and the API with the key."""
    headers = {"XApiKey": EMULATOR_API_KEY}
    with httpx.Client(transport=emulator.transport(), base_url="http://debitura.test", headers=headers) as c:
        yield c


def creditor_writes(http: Any, case: Case, message: str = "Any news on this one?") -> None:
    """The creditor writes in the chat, through the emulator's control endpoint."""
    response = http.post(f"/_emulator/cases/{case.id}/creditor-message", json={"message": message})
    assert response.status_code == 201


def seen_at_debitura(emulator: Any, case: Case) -> None:
    """Every message of the case so far was read in Debitura's own portal."""
    with emulator.state.lock:
        for chat in emulator.state.case(str(case.id)).chats:
            chat.is_seen = True


def refreshed(case: Case, client: Any) -> Case:
    case_children_refresh(case=case, client=client)
    return Case.objects.get(id=case.id)


def test_a_creditor_message_raises_the_count_and_an_agent_opening_the_case_clears_it(
    client, agent, active_case, synced, emulator_http
):
    before = refreshed(active_case, synced).unread_messages
    creditor_writes(emulator_http, active_case)

    case = refreshed(active_case, synced)

    assert case.unread_messages == before + 1
    assert unread_total().messages >= before + 1
    client.force_login(agent)
    page = client.get(reverse("cases:detail", args=[case.id]))
    assert page.status_code == 200
    case.refresh_from_db()
    assert case.unread_messages == 0
    assert "<strong>unread</strong>" not in page.content.decode()  # the page says what it just made true
    newest = ChatMessage.objects.filter(case=case).order_by("-date_created").first()
    assert newest.message == "Any news on this one?"
    assert newest.seen_at is not None
    # A later refresh brings the same messages back as Debitura lists them: still read.
    assert refreshed(case, synced).unread_messages == 0


def test_a_viewer_opening_the_case_leaves_the_messages_unread(
    client, viewer, active_case, synced, emulator_http
):
    creditor_writes(emulator_http, active_case)
    case = refreshed(active_case, synced)
    client.force_login(viewer)

    page = client.get(reverse("cases:detail", args=[case.id])).content.decode()

    case.refresh_from_db()
    assert case.unread_messages >= 1
    assert f"{case.unread_messages} unread" in page


def test_messages_from_the_agency_or_seen_at_debitura_are_not_unread(
    active_case, synced, emulator, emulator_http
):
    seen_at_debitura(emulator, active_case)
    case = refreshed(active_case, synced)
    assert case.unread_messages == 0
    creditor_writes(emulator_http, case)
    member = next(u for u in emulator.state.users.values() if u.active)
    reply = {"message": "Our reply.", "userEmail": member.email}
    assert emulator_http.post(f"/cases/{case.id}/chats", json=reply).status_code == 200

    assert refreshed(case, synced).unread_messages == 1


def test_a_chat_webhook_raises_the_count_without_a_sync(
    client,
    emulator,
    synced,
    debitura_is_emulator,
    eager_tasks,
    active_case,
    django_capture_on_commit_callbacks,
):
    seen_at_debitura(emulator, active_case)
    case = refreshed(active_case, synced)
    hook = synced.create_webhook(url="https://portal.example/webhooks/debitura/", events=["chat.created"])
    WebhookSubscription.objects.create(id=hook.id, url=hook.url, events=["chat.created"], secret=hook.secret)

    def deliver(outgoing: Any) -> int:
        headers = {k: v for k, v in outgoing.headers.items() if k != "Content-Type"}
        response = client.post(
            urlsplit(outgoing.url).path, data=outgoing.body, content_type="application/json", headers=headers
        )
        return response.status_code

    emulator.deliver = deliver
    with django_capture_on_commit_callbacks(execute=True):
        emulator.creditor_message(str(case.id), "Sent while nobody synced.")

    case.refresh_from_db()
    assert case.unread_messages == 1


def test_the_navigation_total_is_one_query_and_skips_test_and_gone_cases(
    django_assert_num_queries, agent, active_case, synced
):
    Case.objects.filter(id=active_case.id).update(unread_messages=3)
    Case.objects.exclude(id=active_case.id).update(unread_messages=0)
    test_case = Case.objects.exclude(id=active_case.id).first()
    Case.objects.filter(id=test_case.id).update(unread_messages=5, is_test_case=True)
    request = RequestFactory().get("/")
    request.user = agent

    context = unread(request)
    with django_assert_num_queries(1):
        assert (context["unread_total"].cases, context["unread_total"].messages) == (1, 3)


def test_the_navigation_total_reads_the_partial_index_not_every_visible_case(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        unread_total()
    [query] = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'QUERY PLAN ' if connection.vendor == 'sqlite' else ''}{query['sql']}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    # On SQLite a test for NOT "is_test_case" missed the index and read every case via case_gone.
    assert "case_unread" in plan or connection.vendor != "sqlite", plan


def test_a_recount_matches_the_chat_rows(active_case, synced):
    case = refreshed(active_case, synced)
    Case.objects.filter(id=case.id).update(unread_messages=99)

    assert case_unread_recount(case_id=case.id) == case.unread_messages
