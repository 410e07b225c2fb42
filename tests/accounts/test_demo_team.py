"""`make demo` out of the box: the demo users who work cases are members of the emulated team."""

from __future__ import annotations

import io
import itertools
import shlex
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.management.commands.create_demo_users import DEMO_USERS
from accounts.roles import roles_with
from cases.actions import case_accept, case_chat_send
from cases.models import Case
from cases.sync import cases_sync_incremental, team_sync
from debitura.emulator import Emulator
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_due
from tests.fixtures.emulator import EMULATOR_API_KEY
from tests.fixtures.gateway import make_client
from tests.fixtures.outbox import NOW

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile.demo"


def demo_team() -> list[tuple[str, str]]:
    """(name, email) of each --team-member the demo starts its emulator with."""
    line = next(line for line in PROCFILE.read_text().splitlines() if line.startswith("emulator:"))
    args = shlex.split(line.partition(":")[2])
    return [parseaddr(value) for option, value in itertools.pairwise(args) if option == "--team-member"]


def test_the_demo_emulator_has_every_demo_user_who_works_cases_in_its_team() -> None:
    workers = set(roles_with("accounts.work_cases"))
    expected = {f"{username}@demo.example" for username, role, _, _ in DEMO_USERS if role in workers}

    assert {email for _, email in demo_team()} == expected


@pytest.mark.django_db
def test_the_demo_agent_accepts_a_case_and_chats_against_the_emulator_the_demo_starts(
    settings, queued_relays
) -> None:
    settings.DEBUG = True
    call_command("create_demo_users", stdout=io.StringIO())
    emulator = Emulator(cases=50, seed=42, api_key=EMULATOR_API_KEY, team=demo_team())
    pending = emulator.new_assignment(claim_type="Unpaid Invoice", disputed=False)[0]
    agent = get_user_model().objects.get(username="agent")
    with make_client(emulator.transport()) as client:
        cases_sync_incremental(client=client)
        team_sync(client=client)
        case = Case.objects.get(id=pending.id)
        accept = case_accept(case=case, actor=agent, welcome_message="We have taken over your case.")
        chat = case_chat_send(case=case, actor=agent, message="Hello from the demo agent.")
        outbox_relay_due(client=client, now=NOW)

    accept.refresh_from_db()
    chat.refresh_from_db()
    assert (accept.state, accept.last_error) == (OutboxAction.State.DONE, "")
    assert (chat.state, chat.last_error) == (OutboxAction.State.DONE, "")
    assert emulator.state.case(pending.id).lifecycle == "Active"
    assert emulator.state.case(pending.id).chats[-1].user_email == "agent@demo.example"
