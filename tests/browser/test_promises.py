"""Recording a promise to pay in a real browser: errors next to the fields, then the promise in
its section at once and its note on Debitura's timeline after the relay, without a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from outbox.relay import outbox_relay_due
from promises.models import Promise
from tests.browser.case_page import LIVE_MS, open_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_recording_a_promise_names_bad_input_then_shows_it_and_its_note_reaches_debitura(
    page, sign_in, team_agent, queued_relays, active_case, sync_client, emulator
):
    sign_in(team_agent)
    page.goto(f"/cases/{active_case.id}/")
    form = open_entry(page, "Record a promise to pay")
    form.get_by_label("Amount promised").fill("900")
    form.get_by_label("First payment due").fill((timezone.localdate() + timedelta(days=10)).isoformat())
    form.get_by_label("Instalments").fill("3")
    form.get_by_label("Every").select_option("monthly")
    form.get_by_label("Each instalment").fill("500")  # 500 + 500 is more than 900
    form.get_by_label("Promised by").fill("Jane Debtor")
    form.get_by_label("Phone").check()
    form.get_by_role("button", name="Record promise").click()

    form = page.locator("#action-promise")
    expect(form.locator("#promise_instalment_amount-feedback")).to_contain_text("make more than the promised")
    assert not Promise.objects.exists()

    form.get_by_label("Each instalment").fill("")
    form.get_by_role("button", name="Record promise").click()

    row = page.locator("#case-promises tr.promise-open")
    expect(row).to_contain_text("Jane Debtor")
    expect(row.locator(".promise-instalments li")).to_have_count(3)
    expect(row.locator(".promise-note-state")).to_contain_text("on its way")
    expect(page.locator("#action-promise").get_by_label("Promised by")).to_have_value("")  # a fresh form

    outbox_relay_due(client=sync_client)

    expect(row.locator(".promise-note-state")).to_contain_text("on Debitura's timeline", timeout=LIVE_MS)
    notes = [t.description for t in emulator.state.cases[str(active_case.pk)].timeline if t.type == "Note"]
    assert sum(n.startswith("Promise to pay: 900.00") for n in notes) == 1
