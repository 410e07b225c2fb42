"""The action panel's entries by lifecycle and where each action stands (cases.panel)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case
from cases.panel import action_states, panel_names, resend_initial
from tests.fixtures.factories import OutboxActionFactory

pytestmark = pytest.mark.django_db


def row(case, actor, kind, state, *, payload=None, age=timedelta(0), **fields):
    return OutboxActionFactory(
        case=case,
        actor=actor,
        kind=kind,
        state=state,
        payload=payload or {},
        created_at=timezone.now() - age,
        **fields,
    )


@pytest.mark.parametrize(
    ("lifecycle", "names"),
    [
        ("PendingVerification", ["accept", "decline"]),
        ("Active", ["note", "payment", "promise", "fees", "upload", "close", "chat"]),
        ("Paused", ["note", "payment", "promise", "fees", "upload", "close", "chat"]),
        ("NeedsAdditionalDetails", ["note", "payment", "promise", "fees", "upload", "close", "chat"]),
        ("Closed", ["upload"]),
        ("Merged", []),
        ("Leads", []),
    ],
)
def test_the_panel_offers_what_the_lifecycle_allows(active_case, lifecycle, names):
    assert panel_names(case=active_case, lifecycle=lifecycle, consent=False) == names


def test_a_case_needing_custom_terms_offers_decline_only(pending_case):
    Case.objects.filter(pk=pending_case.pk).update(claim_type="Damages")
    pending_case.refresh_from_db()
    assert panel_names(case=pending_case, lifecycle="PendingVerification", consent=False) == ["decline"]


def test_each_entry_reports_its_newest_action_and_lifecycle_actions_share_one_line(active_case, team_agent):
    names = set(panel_names(case=active_case, lifecycle="Active", consent=False))
    old_fail = row(active_case, team_agent, "note", "failed", age=timedelta(minutes=5))
    note = row(active_case, team_agent, "note", "pending")
    upload = row(active_case, team_agent, "file_upload", "failed", last_error="Refused.")
    close = row(active_case, team_agent, "close", "failed")
    row(active_case, team_agent, "accept", "done", age=timedelta(days=30))
    actions = sorted([old_fail, note, upload, close], key=lambda a: a.created_at, reverse=True)

    states = action_states(actions, forms=names)

    assert states["note"].action == note  # the older failure is history, in the log
    assert (states["note"].state, states["note"].label) == ("pending", "Pending")
    assert states["upload"].label == "Failed"
    assert not states["upload"].resendable  # a file is chosen again, not refilled
    assert states["lifecycle"].action == close
    assert states["lifecycle"].resendable


def test_a_done_action_says_so_for_half_a_day(active_case, team_agent):
    recent = row(active_case, team_agent, "chat", "done", age=timedelta(hours=1))
    assert action_states([recent], forms={"chat"})["chat"].label == "Message sent"
    old = row(active_case, team_agent, "chat", "done", age=timedelta(hours=13))
    assert action_states([old], forms={"chat"}) == {}


def test_an_older_failed_accept_puts_the_placeholder_back_only_for_the_reference_as_a_word(
    pending_case, team_agent
):
    # Queued before the message's template was kept with the action.
    failed = row(
        pending_case,
        team_agent,
        "accept",
        "failed",
        payload={"welcome_message": "Since 2020 we collect; quote 20 (or 20-B).", "partner_reference": "20"},
    )
    assert (
        resend_initial(failed)["welcome_message"]
        == "Since 2020 we collect; quote {agency_reference} (or 20-B)."
    )


def test_a_failed_accept_comes_back_with_the_reference_as_a_placeholder_again(pending_case, team_agent):
    failed = row(
        pending_case,
        team_agent,
        "accept",
        "failed",
        payload={
            "welcome_message": "We took it as AG-9. Ask for AG-9 when you call.",
            "partner_reference": "AG-9",
            "assigned_user_email": None,
            "interest_fees": None,
            "reminder_fees": "10",
            "collection_fees": None,
        },
    )
    initial = resend_initial(failed)
    assert initial["welcome_message"] == (
        "We took it as {agency_reference}. Ask for {agency_reference} when you call."
    )
    assert initial["partner_reference"] == "AG-9"
    assert initial["reminder_fees"] == Decimal("10")
    assert "interest_fees" not in initial  # left as it was: the form starts from the case's
