"""The case page's promises: recording from the action panel with errors next to the fields and
nothing written on bad input, the promise's page with change, cancel and history, and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from outbox.models import OutboxAction
from promises.actions import promise_record
from promises.models import Promise, PromiseInstalment, PromiseRevision
from tests.fixtures.factories import CaseFactory
from tests.promises.conftest import form_data, promise_values

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def case() -> Case:
    return CaseFactory.create(currency="EUR")


def record(client, case, htmx=True, **values):
    return client.post(
        reverse("promises:record", args=[case.pk]), form_data(**values), headers=HTMX if htmx else {}
    )


def feedback(html: str, field: str) -> str:
    """The errors and help shown under one field of the record form."""
    found = re.search(rf'id="promise_{field}-feedback" class="field-feedback">(.*?)</div>', html, re.S)
    assert found, f"no feedback for {field}"
    return found.group(1)


def nothing_written() -> bool:
    return not (
        Promise.objects.exists()
        or PromiseInstalment.objects.exists()
        or PromiseRevision.objects.exists()
        or OutboxAction.objects.exists()
    )


def test_recording_with_htmx_queues_the_note_and_redraws_the_section(agent_client, case):
    response = record(agent_client, case)

    assert response.status_code == 200
    html = response.content.decode()
    promise = Promise.objects.get()
    assert promise.schedule.count() == 3
    assert promise.action.kind == "note"
    assert 'id="action-promise"' in html  # a fresh form where the agent acted
    assert 'id="case-promises"' in html
    assert f'data-promise="{promise.pk}"' in html
    assert "1,200.00 EUR" in html
    assert "Note on its way to Debitura" in html


def test_recording_without_javascript_redirects_to_the_section(agent_client, case):
    response = record(agent_client, case, htmx=False)

    assert response.status_code == 302
    assert response["Location"].endswith("#case-promises")
    page = agent_client.get(response["Location"]).content.decode()
    assert "Promise recorded" in page
    assert "Next due" in page


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"first_due": timezone.localdate() - timedelta(days=1)}, "first_due", "Cannot be in the past."),
        ({"amount": "-50"}, "amount", "Must be more than zero."),
        ({"amount": "0"}, "amount", "Must be more than zero."),
        ({"amount": "12.345"}, "amount", "Use at most 2 decimals."),
        ({"amount": "abc"}, "amount", "plain digits"),
        ({"instalments": "61"}, "instalments", "At most 60 instalments."),
        ({"instalments": "0"}, "instalments", "At least one."),
        ({"interval": ""}, "interval", "Choose how often the instalments are due."),
        ({"instalment_amount": "700"}, "instalment_amount", "make more than the promised 1,200.00 EUR"),
        (
            {"instalment_amount": "300"},
            "instalment_amount",
            "cover at most 900.00 EUR, not the promised 1,200.00 EUR",
        ),
        ({"instalment_amount": "-1"}, "instalment_amount", "Must be more than zero."),
        ({"amount": "0.02"}, "instalments", "cannot be split into 3 instalments"),
        ({"made_by": "  "}, "made_by", "This field is required."),
        ({"channel": "pigeon"}, "channel", "Select a valid choice."),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_nothing_is_written(
    agent_client, case, values, field, message
):
    response = record(agent_client, case, **values)

    assert response.status_code == 200  # the form swaps itself with its errors
    assert message in feedback(response.content.decode(), field)
    assert nothing_written()


def test_bad_input_without_javascript_returns_the_case_page_with_the_form_open(agent_client, case):
    response = record(agent_client, case, htmx=False, first_due=timezone.localdate() - timedelta(days=3))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="item-promise" open' in html
    assert "Cannot be in the past." in feedback(html, "first_due")
    assert nothing_written()


def test_the_case_page_shows_each_promise_with_its_instalments_and_state(agent_client, case, agent):
    promise = promise_record(case=case, actor=agent, **promise_values())
    Promise.objects.filter(pk=promise.pk).update(status="broken")
    promise.schedule.filter(position=1).update(status="broken", paid=Decimal("150"))

    html = agent_client.get(reverse("cases:detail", args=[case.pk])).content.decode()

    section = html[html.index('id="case-promises"') :]
    assert 'class="badge promise-state-broken">Broken' in section
    assert "paid 150.00 EUR" in section
    assert section.count('<li class="instalment-') == 3
    assert "Change or cancel…" in section
    assert "Record a promise to pay" in html


def test_a_viewer_sees_promises_but_cannot_record_change_or_cancel(client, viewer, case, agent):
    promise = promise_record(case=case, actor=agent, **promise_values())
    client.force_login(viewer)

    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    detail = client.get(reverse("promises:detail", args=[promise.pk]))
    refused = [
        record(client, case),
        client.post(
            reverse("promises:change", args=[promise.pk]), {**form_data(amount="900"), "reason": "x"}
        ),
        client.post(reverse("promises:cancel", args=[promise.pk]), {"token": "t", "reason": "x"}),
    ]

    assert 'id="case-promises"' in page
    assert "Record a promise to pay" not in page
    assert detail.status_code == 200
    assert 'id="promise-change"' not in detail.content.decode()
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert Promise.objects.get().revisions.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, case):
    response = record(client, case)
    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert nothing_written()


def test_recording_needs_the_csrf_token(agent, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    response = record(client, case)

    assert response.status_code == 403
    assert nothing_written()


def test_the_promise_page_changes_cancels_and_shows_the_history(agent_client, case, agent):
    promise = promise_record(case=case, actor=agent, **promise_values())
    url = reverse("promises:detail", args=[promise.pk])
    page = agent_client.get(url).content.decode()
    assert 'id="promise-change"' in page
    assert 'id="promise-cancel"' in page

    bad = agent_client.post(
        reverse("promises:change", args=[promise.pk]), {**form_data(amount="-1"), "reason": ""}
    )
    assert bad.status_code == 400
    assert "Must be more than zero." in bad.content.decode()
    assert promise.revisions.count() == 1

    changed = agent_client.post(
        reverse("promises:change", args=[promise.pk]),
        {**form_data(amount="900", token="tok-change"), "reason": "Debtor asked for less."},
    )
    assert changed.status_code == 302
    cancelled = agent_client.post(
        reverse("promises:cancel", args=[promise.pk]),
        {"token": "tok-cancel", "reason": "Case settled otherwise."},
    )
    assert cancelled.status_code == 302

    history = agent_client.get(url).content.decode()
    assert "Debtor asked for less." in history
    assert "Case settled otherwise." in history
    assert "1,200.00 EUR → 900.00 EUR" in history
    assert "Open → Cancelled" in history
    assert 'id="promise-change"' not in history  # cancelled: nothing left to change
    assert list(promise.revisions.values_list("kind", flat=True).order_by("at", "pk")) == [
        "recorded",
        "changed",
        "cancelled",
    ]
    assert OutboxAction.objects.filter(case=case, kind="note").count() == 3


def test_the_case_page_with_promises_stays_within_its_query_budget(
    agent_client, case, agent, django_assert_max_num_queries
):
    for days in (5, 10, 20):
        promise_record(
            case=case, actor=agent, **promise_values(first_due=timezone.localdate() + timedelta(days=days))
        )
    agent_client.get(reverse("cases:detail", args=[case.pk]))  # first open: stamps first_opened_at

    with django_assert_max_num_queries(16):
        html = agent_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert html.count("data-promise=") == 3


def test_a_past_date_and_a_schedule_that_does_not_add_up_are_named_at_once(agent_client, case):
    response = record(
        agent_client, case, first_due=timezone.localdate() - timedelta(days=1), instalment_amount="700"
    )

    html = response.content.decode()
    assert "Cannot be in the past." in feedback(html, "first_due")
    assert "make more than the promised" in feedback(html, "instalment_amount")
    assert nothing_written()
