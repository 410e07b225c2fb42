"""The case list and the case page, read from the local copy."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.live import case_stamp
from cases.models import Case
from outbox.models import OutboxAction

pytestmark = pytest.mark.django_db


def test_the_list_shows_synced_cases_with_money_in_their_currency(agent_client, synced):
    case = Case.objects.filter(is_test_case=False).order_by("-remote_updated_at").first()
    html = agent_client.get(reverse("cases:list")).content.decode()
    assert case.reference in html
    assert case.currency in html


def test_search_finds_a_case_by_debtor_email_and_the_htmx_request_gets_only_the_table(agent_client, synced):
    case = Case.objects.exclude(debtor_email="").filter(is_test_case=False).first()
    response = agent_client.get(
        reverse("cases:list"), {"q": case.debtor_email.upper()}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert case.reference in html
    assert "<html" not in html  # the partial only
    assert "case-table" in html


def test_a_user_without_a_role_cannot_see_cases(client, make_user, synced):
    client.force_login(make_user(username="norole"))
    assert client.get(reverse("cases:list")).status_code == 403


def test_opening_a_case_with_stale_children_shows_it_at_once_and_polls_for_the_refresh(
    agent_client, synced, django_capture_on_commit_callbacks
):
    case = Case.objects.first()
    with django_capture_on_commit_callbacks() as callbacks:
        response = agent_client.get(reverse("cases:detail", args=[case.id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Updating from Debitura" in html
    assert f'hx-get="{reverse("cases:live", args=[case.id])}?v={case_stamp(case.id)}' in html
    assert 'hx-trigger="every 3s' in html  # sooner while something is on its way
    assert len(callbacks) == 1  # the refresh task, queued after the response's transaction
    assert Case.objects.get(id=case.id).first_opened_at is not None


def live(client, case, stamp, panel=""):
    return client.get(
        reverse("cases:live", args=[case.id]), {"v": stamp, "panel": panel}, headers={"HX-Request": "true"}
    )


def test_the_live_check_answers_204_while_the_case_is_unchanged_in_a_few_queries(
    agent_client, synced, django_assert_max_num_queries
):
    case = Case.objects.first()
    stamp = case_stamp(case.id)
    with django_assert_max_num_queries(5):  # session, user, two for the permission, the stamp
        response = live(agent_client, case, stamp)
    assert response.status_code == 204
    assert response.content == b""


def test_the_live_check_sends_the_regions_once_the_refresh_landed_and_slows_down(agent_client, synced):
    case = Case.objects.first()
    stamp = case_stamp(case.id)
    Case.objects.filter(id=case.id).update(children_stale=False, children_synced_at=timezone.now())
    response = live(agent_client, case, stamp)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == f'{{"case-changed": {{"case": "{case.id}"}}}}'
    assert f"?v={case_stamp(case.id)}" in html  # the poller with the new stamp
    assert 'hx-trigger="every 5s' in html  # nothing on its way: every 5 s is enough
    assert "Updating from Debitura" not in html
    for region in ("case-head", "case-chat", "case-timeline", "case-children", "case-parties"):
        assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', html), region


def test_the_case_page_shows_pending_and_failed_actions_with_debituras_words(agent_client, agent, synced):
    case = Case.objects.first()
    OutboxAction.objects.create(kind="note", case=case, actor=agent, idempotency_key="k1", payload={})
    OutboxAction.objects.create(
        kind="close",
        case=case,
        actor=agent,
        idempotency_key="k2",
        state="failed",
        last_error="Close code Paid requires payments covering the outstanding amount.",
    )
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert "Pending" in html
    assert "Close code Paid requires payments covering the outstanding amount." in html


def test_api_data_is_escaped(agent_client, synced):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(
        creditor_comments="<script>alert('x')</script>", debtor_name="<img src=x onerror=alert(1)>"
    )
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_an_unknown_case_is_404(agent_client, db):
    assert agent_client.get("/cases/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        ("Yes, the claim is disputed", True),
        ("No, the claim is not disputed", False),
        ("Don't Know", False),
        ("", False),
    ],
)
def test_only_a_disputed_claim_is_flagged_as_disputed(agent_client, synced, status, flagged):
    case = Case.objects.first()
    Case.objects.filter(id=case.id).update(dispute_status=status)
    html = agent_client.get(reverse("cases:detail", args=[case.id])).content.decode()
    assert ("Disputed:" in html) is flagged


def test_the_live_regions_keep_the_panel_while_its_forms_stay_and_redraw_it_when_they_change(
    client, team_agent, pending_case
):
    from cases.actions import case_accept
    from cases.panel import panel_states

    client.force_login(team_agent)
    stamp = case_stamp(pending_case.id)
    key = panel_states(case=pending_case, lifecycle="PendingVerification", consent=None, actions=[])[
        "panel_key"
    ]
    Case.objects.filter(id=pending_case.id).update(remainder=1)  # something changed, not the forms
    html = live(client, pending_case, stamp, key).content.decode()
    assert 'id="case-actions"' not in html  # the panel, with what the agent typed, stays
    assert re.search(r'id="action-state-lifecycle"[^>]*hx-swap-oob="true"', html)

    # An accept is queued elsewhere: the case is as good as active, the forms change.
    case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome, we take it from here.")
    html = live(client, pending_case, case_stamp(pending_case.id) + "x", key).content.decode()
    assert re.search(r'<section id="case-actions"[^>]*hx-swap-oob="true"', html)
    assert 'id="action-note"' in html
    assert 'id="action-accept"' not in html
    assert "Accept pending" in html


def test_a_failed_action_can_be_sent_again_from_its_values_without_javascript(
    client, team_agent, active_case
):
    from cases.actions import case_note_add

    action = case_note_add(case=active_case, actor=team_agent, description="Promised to pay <Friday>.")
    OutboxAction.objects.filter(pk=action.pk).update(state="failed", last_error="Debitura was unhappy.")
    client.force_login(team_agent)
    url = reverse("cases:detail", args=[active_case.id])
    html = client.get(url).content.decode()
    assert "Debitura refused the note" in html
    assert "Debitura was unhappy." in html
    assert f'href="?resend={action.pk}#item-note"' in html

    html = client.get(url, {"resend": str(action.pk)}).content.decode()
    assert re.search(r'<details name="case-action" class="action-item" id="item-note" open', html)
    assert "Promised to pay &lt;Friday&gt;.</textarea>" in html
    # Anything else in ?resend is ignored.
    assert client.get(url, {"resend": "not-a-uuid"}).status_code == 200


def test_a_creditor_message_arriving_on_an_agents_open_page_shows_as_new_and_counts_as_seen(
    client, team_agent, viewer, active_case
):
    import uuid

    from cases.models import ChatMessage
    from cases.unread import case_unread_recount

    Case.objects.filter(pk=active_case.pk).update(children_synced_at=timezone.now(), children_stale=False)
    stamp = case_stamp(active_case.id)
    message = ChatMessage.objects.create(
        id=uuid.uuid4(), case=active_case, role=1, message="Any news?", date_created=timezone.now()
    )
    case_unread_recount(case_id=active_case.id)

    client.force_login(viewer)
    html = live(client, active_case, stamp).content.decode()
    assert "1 unread" in html  # a viewer reads without clearing anything
    client.force_login(team_agent)
    response = live(client, active_case, stamp)
    html = response.content.decode()
    assert "1 new" in html
    assert re.search(rf'data-message="{message.pk}"', html)
    assert Case.objects.get(pk=active_case.pk).unread_messages == 0
    # The poller gets the stamp after the message was marked seen: no second round for it.
    assert f"?v={case_stamp(active_case.id)}" in html
    assert "case-changed" in response["HX-Trigger"]  # the navigation's count asks again
    nav = client.get(reverse("cases:unread_nav")).content.decode()
    assert 'id="nav-unread"' in nav
    assert "unread</span>" not in nav


@pytest.mark.parametrize("lifecycle", ["PendingVerification", "Active", "Closed"])
def test_every_region_the_live_check_sends_has_its_place_on_the_page(
    client, team_agent, cases_by_lifecycle, lifecycle
):
    # htmx logs an error (oobErrorNoTarget) for every out-of-band element the page has no place for.
    case = cases_by_lifecycle(lifecycle)[0]
    client.force_login(team_agent)
    html = client.get(reverse("cases:detail", args=[case.id])).content.decode()
    panel = unquote(re.search(r'hx-get="[^"]*live[^"]*panel=([^"]*)"', html).group(1))
    stamp = case_stamp(case.id)
    Case.objects.filter(id=case.id).update(remainder=1)  # something changed, not the forms
    regions = live(client, case, stamp, panel).content.decode()
    sent = re.findall(r'id="([^"]+)"[^>]*hx-swap-oob="true"', regions)

    assert sent
    assert [region for region in sent if f'id="{region}"' not in html] == []
