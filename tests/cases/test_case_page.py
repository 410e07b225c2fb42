"""The case page: header, money, parties, children, actions in words, the forms an agent may use."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions import case_accept, case_fees_update, case_note_add
from cases.models import (
    Case,
    ExclusivityExtension,
    TimelineItem,
)
from cases.unread import case_unread_recount
from outbox.models import OutboxAction
from partnerportal.models import AgencySettings
from tests.fixtures.factories import (
    CaseFileFactory,
    ChatMessageFactory,
    OutboxActionFactory,
    PaymentFactory,
    TimelineItemFactory,
)
from tests.fixtures.outbox import reload

pytestmark = pytest.mark.django_db


def page(client, case) -> str:
    response = client.get(reverse("cases:detail", args=[case.id]))
    assert response.status_code == 200
    return response.content.decode()


def fill_children(case, actor) -> None:
    """Some of everything the page lists, as a children refresh would leave it."""
    now = timezone.now()
    for i in range(5):
        TimelineItemFactory(case=case, position=i, date=now, title=f"Event {i}")
        ChatMessageFactory(case=case, date_created=now, role=i % 2, message=f"Message {i}", is_seen=i < 3)
        PaymentFactory(case=case)
        CaseFileFactory(case=case, file_name=f"letter-{i}.pdf", date_created=now)
        ExclusivityExtension.objects.create(
            case=case, position=i, type="Payment", event_date=now, new_end_date=now + timedelta(days=365)
        )
    Case.objects.filter(pk=case.pk).update(
        exclusive_period_end=now + timedelta(days=40),
        exclusivity_start=now - timedelta(days=100),
        children_synced_at=now,
    )
    for i, state in enumerate(("pending", "done", "failed")):
        OutboxActionFactory(
            case=case,
            actor=actor,
            state=state,
            payload={"description": f"Note {i}"},
            last_error="Refused." if state == "failed" else "",
        )


def test_the_header_shows_references_lifecycle_phase_and_the_money_in_its_currency(
    client, team_agent, active_case
):
    Case.objects.filter(pk=active_case.pk).update(
        partner_reference="2025-00042",
        engagement_phase="Pre-legal",
        currency="EUR",
        gross_amount=Decimal("1000"),
        interest_fees=Decimal("12.5"),
        reminder_fees=Decimal("7"),
        collection_fees=Decimal("30"),
        remainder=Decimal("849.5"),
    )
    client.force_login(team_agent)
    html = page(client, active_case)
    for text in (
        active_case.reference,
        "2025-00042",
        "Active",
        "Pre-legal",
        "1,000.00 EUR",
        "12.50 EUR",
        "7.00 EUR",
        "30.00 EUR",
        "200.00 EUR",  # paid: principal and fees less the remainder
        "849.50 EUR",
    ):
        assert text in html, text


def test_the_page_lists_children_with_unread_creditor_messages_and_the_exclusivity_chain(
    client, team_agent, active_case
):
    fill_children(active_case, team_agent)
    case_unread_recount(case_id=active_case.pk)  # as the children refresh does
    client.force_login(team_agent)
    html = page(client, active_case)
    assert "Event 4" in html
    assert "letter-3.pdf" in html
    assert "chat-creditor" in html
    assert "chat-agency" in html
    assert "1 new" in html  # message 3 is the creditor's and unseen; 4 is ours
    assert html.count("· <strong>new</strong>") == 1
    assert "days left" in html
    assert html.count("→ until") == 5


@pytest.mark.parametrize("status", ["Expired", "Terminated"])
def test_the_head_says_an_exclusive_period_that_is_over_is_over_though_its_end_date_is_ahead(
    client, team_agent, active_case, status
):
    # A case closed before its end date: Debitura says the period expired (or was terminated).
    end = timezone.now() + timedelta(days=200)
    Case.objects.filter(pk=active_case.pk).update(
        lifecycle="Closed", exclusive_period_end=end, exclusivity_status=status
    )
    client.force_login(team_agent)
    head = page(client, active_case).split('id="case-head"')[1].split("</header>")[0]
    # "expired · end date <a date ahead>" read as a contradiction: it ended before that date.
    badge = f'<span class="badge">{status.lower()}</span>'
    assert f"{badge} <small>before its end date {end:%Y-%m-%d}</small>" in head
    assert "until" not in head  # "until <a date ahead>" beside "expired" read as both at once
    assert "days left" not in head


def test_the_timeline_says_who_acted_in_the_chats_words_when_debitura_gives_no_name(
    client, team_agent, active_case
):
    now = timezone.now()
    for position, (actor_type, name) in enumerate(
        [("Partner user", ""), ("Creditor user", ""), ("System", ""), ("Partner user", "Mette Holm")]
    ):
        TimelineItem.objects.create(
            case=active_case,
            position=position,
            date=now,
            title=f"Event {position}",
            actor_type=actor_type,
            actor_name=name,
        )
    Case.objects.filter(pk=active_case.pk).update(children_synced_at=now)
    client.force_login(team_agent)
    timeline = page(client, active_case).split('id="case-timeline"')[1].split("</section>")[0]
    stamp = f"{timezone.localtime(now):%Y-%m-%d %H:%M}"
    for who in ("Agency", "Creditor", "System", "Mette Holm"):
        assert f"{stamp} · {who}</small>" in timeline, who
    assert "user" not in timeline


@pytest.mark.parametrize("lifecycle", ["PendingVerification", "Active"])
def test_the_claim_says_when_it_fell_due(client, team_agent, active_case, lifecycle):
    # How old the debt is weighs on accepting it and on how it is worked.
    due = timezone.now() - timedelta(days=400)
    Case.objects.filter(pk=active_case.pk).update(
        lifecycle=lifecycle, claim_type="Unpaid Invoice", due_date=due
    )
    client.force_login(team_agent)
    claim = page(client, active_case).split('class="case-claim"')[1].split("</article>")[0]
    assert f"<small>Unpaid Invoice · due {timezone.localtime(due):%Y-%m-%d}</small>" in claim


def test_the_creditors_division_is_named_as_one(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(
        creditor_name="Sterling Print GmbH", creditor_division_name="Sterling Wholesale"
    )
    client.force_login(team_agent)
    parties = page(client, active_case).split('id="case-parties"')[1].split("</aside>")[0]
    assert "<strong>Creditor</strong> <small>division Sterling Wholesale</small>" in parties


def test_unread_creditor_messages_are_new_once_for_the_agent_who_opens_the_case_and_unread_for_a_viewer(
    client, team_agent, viewer, active_case
):
    fill_children(active_case, team_agent)
    case_unread_recount(case_id=active_case.pk)  # as the children refresh does
    client.force_login(viewer)
    html = page(client, active_case)
    assert "1 unread" in html
    assert "· <strong>unread</strong>" in html
    nav = '<span class="badge badge-warn" title="1 unread message from creditors on 1 case">1 unread</span>'
    assert nav in html

    client.force_login(team_agent)
    assert "1 new" in page(client, active_case)
    again = page(client, active_case)
    assert "1 new" not in again
    assert "<strong>unread</strong>" not in again
    assert 'id="nav-unread"' in again
    assert "unread</span>" not in again  # nothing left in the navigation either
    assert Case.objects.get(pk=active_case.pk).unread_messages == 0


def test_an_open_accept_shows_as_accept_pending_in_the_header(client, team_agent, pending_case):
    case_accept(case=pending_case, actor=team_agent, welcome_message="Welcome, we take it from here.")
    client.force_login(team_agent)
    html = page(client, pending_case)
    assert "Accept pending" in html
    assert 'id="action-accept"' not in html
    assert 'id="action-note"' in html  # the case is as good as active


def test_a_failed_action_shows_debituras_words(client, team_agent, active_case):
    action = case_note_add(case=active_case, actor=team_agent, description="Called.")
    OutboxAction.objects.filter(pk=action.pk).update(
        state="failed", last_error="Debitura refused: the case is closed."
    )
    client.force_login(team_agent)
    assert "Debitura refused: the case is closed." in page(client, active_case)


def test_a_viewer_sees_the_case_but_no_action_forms(client, viewer, active_case):
    client.force_login(viewer)
    html = page(client, active_case)
    assert active_case.reference in html
    assert '<form id="action-' not in html
    assert "Act on the case" not in html


def test_an_agent_sees_the_forms_the_lifecycle_allows(client, team_agent, pending_case, active_case):
    client.force_login(team_agent)
    pending = page(client, pending_case)
    assert 'id="action-accept"' in pending
    assert 'id="action-decline"' in pending
    assert 'id="action-close"' not in pending
    active = page(client, active_case)
    for name in ("note", "chat", "fees", "close"):
        assert f'id="action-{name}"' in active
    assert 'id="action-accept"' not in active


@pytest.mark.parametrize(
    ("claim_type", "dispute"),
    [("Rental Arrears", "No, the claim is not disputed"), ("Unpaid Invoice", "Yes, the claim is disputed")],
)
def test_a_case_needing_custom_terms_says_why_and_links_to_debitura(
    client, team_agent, pending_case, claim_type, dispute
):
    Case.objects.filter(pk=pending_case.pk).update(
        claim_type=claim_type, dispute_status=dispute, solution_url=""
    )
    client.force_login(team_agent)
    html = page(client, pending_case)
    assert "Needs custom terms" in html
    assert 'href="https://partner.debitura.com"' in html
    assert 'id="action-accept"' not in html
    assert 'id="action-decline"' in html


def test_the_accept_form_is_prefilled_from_the_agency_settings(client, team_agent, pending_case):
    settings = AgencySettings.load()
    settings.welcome_message_template = (
        "Hello {{ creditor_name }}, we took {{ reference }} as {{ agency_reference }}."
    )
    settings.partner_reference_pattern = "AG-{reference}-{seq}"
    settings.save()
    Case.objects.filter(pk=pending_case.pk).update(creditor_name="Acme & Sons")
    client.force_login(team_agent)
    html = page(client, pending_case)
    reference = f"AG-{pending_case.reference}-1"
    assert f'value="{reference}"' in html
    # The reference stays a placeholder in the message until it is sent, with what it reads under it.
    assert f"Hello Acme &amp; Sons, we took {pending_case.reference} as {{agency_reference}}." in html
    assert f"{{agency_reference}} will read <strong>{reference}</strong>" in html


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("javascript:alert(document.cookie)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example/x", False),
        ("http://partner.debitura.example/cases/1", False),  # plain http only under DEBUG
        ("https://partner.debitura.example/cases/1", True),
    ],
)
def test_debituras_link_to_a_case_is_a_link_only_when_it_is_https(
    client, team_agent, pending_case, url, linked
):
    Case.objects.filter(pk=pending_case.pk).update(claim_type="Rental Arrears", solution_url=url)
    client.force_login(team_agent)
    html = page(client, pending_case)
    assert ('href="https://partner.debitura.example/cases/1"' in html) is linked
    assert "javascript:" not in html
    assert "evil.example" not in html
    if not linked:
        assert 'href="https://partner.debitura.com"' in html  # Debitura's portal, our own constant


def test_the_suggested_reference_skips_ones_already_taken(pending_case, active_case):
    from cases.forms import partner_reference_suggest

    settings = AgencySettings(partner_reference_pattern="{year}-{seq:05d}")
    today = date(2030, 1, 1)
    first = partner_reference_suggest(case=pending_case, settings=settings, today=today)
    Case.objects.filter(pk=active_case.pk).update(partner_reference=first)
    second = partner_reference_suggest(case=pending_case, settings=settings, today=today)
    assert first.startswith("2030-")
    assert second.startswith("2030-")
    assert second != first


def test_a_fee_change_debitura_asked_about_shows_both_rates_and_the_choice(client, team_agent, active_case):
    action = case_fees_update(
        case=active_case,
        actor=team_agent,
        interest_fees=Decimal(0),
        reminder_fees=Decimal(0),
        collection_fees=Decimal(0),
        gross_amount=Decimal(200_000),
    )
    OutboxAction.objects.filter(pk=action.pk).update(
        state="failed",
        last_error="Debitura asks to confirm.",
        response={
            "confirmation_required": True,
            "current_success_fee": "9.5",
            "proposed_success_fee": "6",
            "warning": "The success fee will drop <b>sharply</b>.",
            "message": "Confirm or keep the rate.",
        },
    )
    client.force_login(team_agent)
    html = page(client, active_case)
    assert 'id="action-fees_consent"' in html
    assert "9.5 %" in html
    assert "6 %" in html
    assert "&lt;b&gt;sharply&lt;/b&gt;" in html
    assert "Confirm the price change" in html
    assert "Keep the intentional rate" in html
    assert reload(action).state == "failed"


# 15 for the page, the promises section's one query (promises.case_parts), the bulk notes
# section's one (bulknotes.case_parts), the one INSERT of the view log when the history app
# listens (case_opened) and the navigation's "My work" count (worklist.inbox.nav_count).
PAGE_QUERIES = 19


def test_the_case_page_stays_within_its_query_budget(
    client, team_agent, active_case, django_assert_max_num_queries
):
    fill_children(active_case, team_agent)
    client.force_login(team_agent)
    with django_assert_max_num_queries(PAGE_QUERIES):
        page(client, active_case)


def test_a_new_assignment_with_the_prefilled_accept_form_stays_within_the_budget(
    client, team_agent, pending_case, django_assert_max_num_queries
):
    # As a new assignment is: nothing fetched but the case itself (and the "My work" count).
    AgencySettings.load()
    client.force_login(team_agent)
    with django_assert_max_num_queries(PAGE_QUERIES):
        page(client, pending_case)
