"""Case files in a real browser: two files picked at once, each with its own type and a progress
bar, pending until the relay ran, then listed as Debitura's files; one opened through the portal."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from cases.models import CaseFile
from outbox.models import OutboxAction
from outbox.relay import outbox_relay_due
from tests.browser.case_page import LIVE_MS, assert_not_reloaded, open_entry, stay_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"% padding\n" * 20_000
CSV = b"date,amount\n2025-01-02,100.00\n2025-02-03,50.00\n"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def via_emulator(monkeypatch, sync_client):
    import documents.opening

    monkeypatch.setattr(documents.opening, "get_client", lambda: sync_client)
    return sync_client


def test_two_files_upload_with_progress_show_done_and_one_opens(
    page, sign_in, team_agent, active_case, queued_relays, via_emulator, emulator, tmp_path
):
    sign_in(team_agent)
    page.goto(f"/cases/{active_case.id}/")
    stay_on(page)
    open_entry(page, "Add files")
    form = page.locator("#file-upload")
    expect(form).to_contain_text("Files are always visible to the creditor at Debitura.")

    form.locator("input[type=file]").set_input_files(
        [
            {"name": "demand.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "ledger.csv", "mimeType": "text/csv", "buffer": CSV},
        ]
    )
    rows = form.locator(".upload-row")
    expect(rows).to_have_count(2)
    rows.nth(0).get_by_label("Document type").select_option("DemandLetter")
    rows.nth(0).get_by_label("Description").fill("First demand")
    rows.nth(1).get_by_label("Document type").select_option("DebtorDocuments")
    form.get_by_role("button", name="Upload").click()

    # Once queued, a file leaves the upload list for the Files table, where its state follows
    # Debitura's answer: nothing keeps saying "queued" after Debitura has the file.
    expect(form.locator("[data-summary]")).to_contain_text("2 files queued")
    expect(rows).to_have_count(0)
    files = page.locator("#case-files")
    expect(files.locator('tr[data-upload-state="pending"]')).to_have_count(2)
    actions = OutboxAction.objects.filter(case=active_case, kind="file_upload").order_by("created_at")
    assert [(a.payload["document_type"], a.payload["description"]) for a in actions] == [
        ("DemandLetter", "First demand"),
        ("DebtorDocuments", ""),
    ]

    outbox_relay_due(client=via_emulator)

    # No reload: the page polls and the uploads become Debitura's files, their actions done.
    expect(files.locator("tr.upload")).to_have_count(0, timeout=LIVE_MS)
    expect(files.get_by_role("link", name="demand.pdf")).to_be_visible()
    expect(files.get_by_role("link", name="ledger.csv")).to_be_visible()
    log = page.locator('#case-action-log tr[data-kind="file_upload"] .badge')
    expect(log).to_have_text(["Done", "Done"])
    remote = {f.file_name: f.content for f in emulator.state.cases[str(active_case.pk)].files}
    assert hashlib.sha256(remote["demand.pdf"]).digest() == hashlib.sha256(PDF).digest()
    assert_not_reloaded(page)

    with page.expect_download() as download_info:
        files.get_by_role("link", name="ledger.csv").click()
    download = download_info.value
    assert download.suggested_filename == "ledger.csv"
    saved = tmp_path / "opened.csv"
    download.save_as(saved)
    assert saved.read_bytes() == CSV
    assert CaseFile.objects.get(case=active_case, file_name="ledger.csv").uploaded_by == team_agent


def test_pressing_upload_again_after_an_interrupted_answer_queues_the_file_once(
    page, sign_in, team_agent, active_case, queued_relays
):
    sign_in(team_agent)
    page.goto(f"/cases/{active_case.id}/")
    open_entry(page, "Add files")
    form = page.locator("#file-upload")
    answers_lost = []

    def lose_the_first_answer(route):
        if answers_lost:
            route.continue_()
            return
        route.fetch()  # the portal receives the file and queues it; the browser never hears back
        answers_lost.append(route.request.url)
        route.abort("connectionreset")

    page.route(f"**/cases/{active_case.id}/files/", lose_the_first_answer)
    form.locator("input[type=file]").set_input_files(
        [{"name": "demand.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    status = form.locator(".upload-row .upload-status")
    form.get_by_role("button", name="Upload").click()
    expect(status).to_contain_text("interrupted")
    assert answers_lost

    form.get_by_role("button", name="Upload").click()

    expect(form.locator("[data-summary]")).to_contain_text("1 file queued")
    assert OutboxAction.objects.filter(case=active_case, kind="file_upload").count() == 1


def test_a_signed_out_agent_is_told_so_and_nothing_shows_as_queued(page, sign_in, team_agent, active_case):
    sign_in(team_agent)
    page.goto(f"/cases/{active_case.id}/")
    open_entry(page, "Add files")
    form = page.locator("#file-upload")
    form.locator("input[type=file]").set_input_files(
        [{"name": "demand.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.context.clear_cookies()  # the session ended while the agent was choosing files

    form.get_by_role("button", name="Upload").click()

    status = form.locator(".upload-row .upload-status")
    expect(status).to_contain_text("You were signed out, so nothing was uploaded")
    assert not OutboxAction.objects.exists()
