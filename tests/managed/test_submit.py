"""Submitting a case as managing partner: one case at Debitura whatever happens to the first
send, problems next to their fields with nothing written, Debitura's refusal in its own words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from managed.models import ManagedCase
from outbox.models import OutboxAction
from tests.fixtures.outbox import LATER
from tests.managed.conftest import submit_form

pytestmark = pytest.mark.django_db

State = OutboxAction.State
SUBMIT = "/managed-cases"


def posts(emulator):
    return [r for r in emulator.request_log if r.method == "POST" and r.template == SUBMIT]


def test_a_submitted_case_shows_as_pending_at_once_and_nothing_is_sent_before_the_worker(
    agent_client, emulator
):
    response = agent_client.post(reverse("managed:submit"), submit_form())

    row = ManagedCase.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("managed:detail", args=[row.pk])
    assert row.submission.state == State.PENDING
    assert row.submission.case_id is None
    assert (row.debtor_name, row.currency, str(row.gross_amount)) == (
        "Berliner Handels GmbH",
        "EUR",
        "2450.5000",
    )
    page = agent_client.get(response["Location"]).content.decode()
    assert "Sending to Debitura" in page
    listing = agent_client.get(reverse("managed:list")).content.decode()
    assert "Berliner Handels GmbH" in listing
    assert "Sending to Debitura" in listing
    assert posts(emulator) == []


def test_a_case_whose_first_send_timed_out_is_created_at_debitura_once(agent_client, emulator, relay):
    agent_client.post(reverse("managed:submit"), submit_form())
    row = ManagedCase.objects.get()
    emulator.set_faults(timeout_rate=1.0, paths=[SUBMIT], methods=["POST"])

    relay()
    row.submission.refresh_from_db()
    assert (row.submission.state, row.submission.uncertain) == (State.PENDING, True)
    assert "no answer yet" in agent_client.get(reverse("managed:detail", args=[row.pk])).content.decode()
    emulator.clear_faults()
    relay(now=LATER)

    row.refresh_from_db()
    assert row.submission.state == State.DONE
    sent = posts(emulator)
    assert len(sent) == 2
    assert sent[0].idempotency_key == sent[1].idempotency_key == row.submission.idempotency_key
    assert len(emulator.state.managed) == 1
    remote = next(iter(emulator.state.managed.values()))
    assert (str(row.remote_id), row.reference) == (remote.id, remote.reference)
    page = agent_client.get(reverse("managed:detail", args=[row.pk])).content.decode()
    assert remote.reference in page
    assert "Sending to Debitura" not in page


def test_a_double_click_submits_one_case(agent_client, emulator, relay):
    form = submit_form()
    first = agent_client.post(reverse("managed:submit"), form)
    second = agent_client.post(reverse("managed:submit"), form)
    relay()

    assert first["Location"] == second["Location"]
    assert ManagedCase.objects.count() == OutboxAction.objects.count() == 1
    assert len(posts(emulator)) == 1
    assert len(emulator.state.managed) == 1


def test_only_what_the_agent_filled_in_is_sent(agent_client, emulator, relay):
    agent_client.post(reverse("managed:submit"), submit_form())
    relay()

    (sent,) = posts(emulator)
    assert sent.body == {
        "creditorCompanyName": "Acme Services Inc",
        "creditorCountryAlpha2": "DK",
        "currencyCode": "EUR",
        # Dates as the schema's date-time at midnight UTC (debitura.serialization.format_date).
        "date": "2025-08-19T00:00:00Z",
        "dueDate": "2025-09-02T00:00:00Z",
        "creditorReference": "INV-2025-77",
        "amountToRecover": 2450.5,
        "isTest": False,
        "debtor": {
            "type": "Company",
            "name": "Berliner Handels GmbH",
            "contactPerson": "Jana Weber",
            "city": "Berlin",
            "countryAlpha2": "DE",
        },
    }


BAD_INPUT = [
    pytest.param({"debtor_name": ""}, "debtor_name", "This field is required.", id="no-debtor"),
    pytest.param(
        {"debtor_contact_person": ""}, "debtor_contact_person", "contact person", id="company-contact"
    ),
    pytest.param(
        {"debtor_country_alpha2": "US", "debtor_state_alpha2": ""},
        "debtor_state_alpha2",
        "its state",
        id="us-state",
    ),
    pytest.param(
        {"creditor_country_alpha2": "", "creditor_country": ""},
        "creditor_country_alpha2",
        "country",
        id="creditor-country",
    ),
    pytest.param({"currency_code": "EURO"}, "currency_code", "3-letter code", id="currency"),
    pytest.param(
        {"amount_to_recover": "0"}, "amount_to_recover", "greater than or equal to 0.01", id="amount"
    ),
    pytest.param(
        {"currency_code": "JPY", "amount_to_recover": "100.5"}, "amount_to_recover", "0 decimal", id="yen"
    ),
    pytest.param({"due_date": "2025-08-01"}, "due_date", "before the invoice date", id="due-date"),
    pytest.param({"creditor_reference": "R" * 51}, "creditor_reference", "at most 50", id="reference-length"),
    pytest.param({"tag": "run-1"}, "tag", "only for test cases", id="tag-without-test"),
    pytest.param(
        {"collection_partner_id": "partner-7"}, "collection_partner_id", "valid UUID", id="partner-id"
    ),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD_INPUT)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_written(
    agent_client, emulator, change, field, words
):
    response = agent_client.post(reverse("managed:submit"), submit_form(**change))

    assert response.status_code == 200
    form = response.context["form"]
    assert words in " ".join(form.errors[field])
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert ManagedCase.objects.count() == OutboxAction.objects.count() == 0
    assert emulator.request_log == []


def test_a_refusal_by_debitura_is_shown_in_its_words_on_the_submissions_page(agent_client, emulator, relay):
    # A production case for a country no partner in the network covers.
    agent_client.post(reverse("managed:submit"), submit_form(debtor_country_alpha2="XQ"))
    relay()

    row = ManagedCase.objects.get()
    assert row.submission.state == State.FAILED
    page = agent_client.get(reverse("managed:detail", args=[row.pk])).content.decode()
    assert "Debitura refused this case." in page
    assert "No collection partner covers the jurisdiction XQ." in page
    assert f"?from={row.pk}" in page
    listing = agent_client.get(reverse("managed:list")).content.decode()
    assert "Refused by Debitura" in listing


def test_a_refused_case_can_be_corrected_from_what_was_submitted(agent_client, emulator, relay):
    agent_client.post(reverse("managed:submit"), submit_form(debtor_country_alpha2="XQ"))
    relay()
    row = ManagedCase.objects.get()

    form = agent_client.get(reverse("managed:submit"), {"from": str(row.pk)}).context["form"]

    assert form.initial["debtor_name"] == "Berliner Handels GmbH"
    assert form.initial["debtor_country_alpha2"] == "XQ"
    assert form.initial["token"] != row.submission.idempotency_key


def test_a_test_case_is_marked_test_and_listed_only_when_asked(agent_client, emulator, relay):
    agent_client.post(reverse("managed:submit"), submit_form(is_test="on", tag="rehearsal-1"))
    relay()
    row = ManagedCase.objects.get()

    assert row.is_test_case
    assert row.tag == "rehearsal-1"
    assert row.reference not in agent_client.get(reverse("managed:list")).content.decode()
    listing = agent_client.get(reverse("managed:list"), {"test": "1"}).content.decode()
    assert row.reference in listing
    assert "TEST" in listing
    assert "TEST" in agent_client.get(reverse("managed:detail", args=[row.pk])).content.decode()
