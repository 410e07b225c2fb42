"""Batch lookup by agency reference: local matches, Debitura's batch lookup for the rest, limits."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.lookup import references_from_csv, references_parse
from cases.models import Case

pytestmark = pytest.mark.django_db
LOOKUP = "/cases/lookup/"


@pytest.fixture
def via_emulator(monkeypatch, synced):
    import debitura.client

    monkeypatch.setattr(debitura.client, "get_client", lambda: synced)
    return synced


@pytest.fixture
def with_references(emulator, synced):
    """Give the local copies the agency references the emulator holds (set at acceptance)."""
    held = sorted(
        (c.partner_reference, c.id)
        for c in emulator.state.cases.values()
        if c.partner_reference and not c.is_test
    )
    for reference, case_id in held[:3]:
        Case.objects.filter(id=case_id).update(partner_reference=reference)
    return list(Case.objects.exclude(partner_reference="").order_by("partner_reference"))


def test_pasted_references_list_matches_as_links_and_misses(agent_client, via_emulator, with_references):
    cases = with_references
    assert cases, "the seed has accepted cases with agency references"
    text = f"{cases[0].partner_reference}\n{cases[1].partner_reference}, NOPE-1"
    html = agent_client.post(LOOKUP, {"references": text}).content.decode()
    for case in cases[:2]:
        assert f'href="{reverse("cases:detail", args=[case.id])}"' in html
    assert "<li>NOPE-1</li>" in html
    assert "Found 2" in html


def test_references_unknown_here_are_fetched_from_debitura_and_stored(
    agent_client, via_emulator, emulator, with_references
):
    case = with_references[0]
    reference = case.partner_reference
    Case.objects.filter(id=case.id).delete()
    html = agent_client.post(LOOKUP, {"references": reference}).content.decode()
    assert "1 new from Debitura" in html
    stored = Case.objects.get(partner_reference=reference)
    assert stored.id == case.id
    assert reference.lower() in stored.search_text
    assert emulator.requests(template="/cases/by-partner-reference")


def test_debituras_failure_is_shown_in_words_and_local_matches_still_listed(
    agent_client, via_emulator, emulator, with_references
):
    case = with_references[0]
    emulator.set_faults(error_rate=1.0, seed=1)
    html = agent_client.post(LOOKUP, {"references": f"{case.partner_reference}\nNOPE-2"}).content.decode()
    assert "Debitura did not answer" in html
    assert case.reference in html
    assert "<li>NOPE-2</li>" in html


def test_more_than_100_references_are_refused_next_to_the_field(agent_client, db):
    text = "\n".join(f"AG-{n}" for n in range(101))
    response = agent_client.post(LOOKUP, {"references": text})
    assert response.status_code == 400
    assert 'id="references-error"' in response.content.decode()
    assert "101 references given; look up at most 100" in response.content.decode()


def test_a_csv_file_is_read_cell_by_cell(agent_client, via_emulator, with_references):
    cases = with_references
    data = f"reference;note\n{cases[0].partner_reference};x\n".encode()
    upload = SimpleUploadedFile("refs.csv", data, content_type="text/csv")
    html = agent_client.post(LOOKUP, {"file": upload}).content.decode()
    assert cases[0].reference in html


def test_a_large_or_binary_file_is_refused_next_to_the_file_field(agent_client, db):
    big = SimpleUploadedFile("big.csv", b"A," * 60_000, content_type="text/csv")
    response = agent_client.post(LOOKUP, {"file": big})
    assert response.status_code == 400
    assert 'id="file-error"' in response.content.decode()
    binary = SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x00", content_type="text/csv")
    assert 'id="file-error"' in agent_client.post(LOOKUP, {"file": binary}).content.decode()


def test_parsing_drops_blanks_quotes_and_repeats():
    assert references_parse(' "A-1" ,\n\nB-2;A-1\tC-3 ') == ["A-1", "B-2", "C-3"]
    assert references_from_csv(b"\xef\xbb\xbfA-1,B-2\r\nC-3,\r\n") == ["A-1", "B-2", "C-3"]


def test_viewers_may_look_up_but_anonymous_users_may_not(client, viewer, db):
    assert client.get(LOOKUP).status_code == 302
    client.force_login(viewer)
    assert client.get(LOOKUP).status_code == 200
