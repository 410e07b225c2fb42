"""Documents archives: built from the emulator through the gateway, with a manifest; progress,
expiry and who may download."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

import exports.archives
from cases.models import Case
from debitura.client import DebituraClient
from debitura.emulator import Emulator
from debitura.emulator.model import CaseFile as RemoteFile
from exports.jobs import export_job_estimate, export_jobs_expire
from exports.models import ExportJob
from tests.fixtures.emulator import EMULATOR_API_KEY
from tests.fixtures.factories import UserFactory
from tests.fixtures.gateway import make_client

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
START = reverse("exports:documents_start")


@pytest.fixture(autouse=True)
def _archives_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.EXPORT_ARCHIVE_DIR = tmp_path / "exports"


@pytest.fixture
def archive_client(monkeypatch: pytest.MonkeyPatch, synced: DebituraClient) -> DebituraClient:
    """Archives fetch through the gateway client on the in-process emulator."""
    monkeypatch.setattr(exports.archives, "archive_client", lambda: synced)
    return synced


def add_remote_file(emulator: Emulator, case_id: str, name: str, content: bytes = PDF) -> RemoteFile:
    with emulator.state.lock:
        remote = RemoteFile(
            str(uuid.uuid4()), case_id, name, "CreditorDocuments", None, content, emulator.clock.now()
        )
        emulator.state.cases[case_id].files.append(remote)
        emulator.state.files[remote.id] = remote
    return remote


def remote_files(emulator: Emulator, case_id: str) -> list[RemoteFile]:
    with emulator.state.lock:
        return list(emulator.state.cases[case_id].files)


def manifest(archive_bytes: bytes) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as zf:
        text = zf.read("manifest.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def start(client: Any, django_capture_on_commit_callbacks: Any, **data: str) -> ExportJob:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, data)
    assert response.status_code == 302
    return ExportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def download(client: Any, archive: ExportJob) -> Any:
    return client.get(reverse("exports:job_download", args=[archive.pk]))


def test_one_cases_files_are_fetched_into_its_folder_with_safe_unique_names_and_a_manifest(
    client, supervisor, emulator, archive_client, eager_tasks, django_capture_on_commit_callbacks
):
    case = Case.objects.filter(lifecycle="Active").first()
    add_remote_file(emulator, str(case.pk), "letter.pdf", PDF)
    add_remote_file(emulator, str(case.pk), "letter.pdf", PDF + b"second")
    add_remote_file(emulator, str(case.pk), "../../etc/passwd\u202e.pdf", PDF)
    expected = {f.id: f.content for f in remote_files(emulator, str(case.pk))}
    client.force_login(supervisor)

    archive = start(client, django_capture_on_commit_callbacks, case=str(case.pk))

    archive.refresh_from_db()
    assert archive.state == ExportJob.State.READY
    assert (archive.cases_total, archive.cases_done, archive.files_done, archive.files_failed) == (
        1, 1, len(expected), 0,
    )  # fmt: skip
    assert archive.expires_at == archive.finished_at + timedelta(hours=24)
    response = download(client, archive)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="documents-{case.reference}-{timezone.localdate():%Y-%m-%d}.zip"'
    )
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        names = zf.namelist()
        contents = sorted(zf.read(name) for name in names if name != "manifest.csv")
    assert all(name.startswith(f"{case.reference}/") for name in names if name != "manifest.csv")
    assert f"{case.reference}/letter.pdf" in names
    assert f"{case.reference}/letter (2).pdf" in names
    assert not any(".." in name or "\u202e" in name for name in names)
    assert contents == sorted(expected.values())
    rows = manifest(body)
    assert len(rows) == len(expected)
    assert {row["Result"] for row in rows} == {"included"}
    assert {row["Case"] for row in rows} == {case.reference}


def test_a_file_debitura_refuses_is_listed_as_failed_in_the_manifest_with_its_words(
    client, supervisor, emulator, archive_client, eager_tasks, django_capture_on_commit_callbacks
):
    case = Case.objects.filter(lifecycle="Active").first()
    kept = add_remote_file(emulator, str(case.pk), "kept.pdf")
    gone = add_remote_file(emulator, str(case.pk), "gone.pdf")
    with emulator.state.lock:
        del emulator.state.files[gone.id]  # still listed on the case, refused when fetched
    client.force_login(supervisor)

    archive = start(client, django_capture_on_commit_callbacks, case=str(case.pk))

    archive.refresh_from_db()
    assert archive.state == ExportJob.State.READY
    assert archive.files_failed == 1
    rows = {
        row["Name at Debitura"]: row
        for row in manifest(b"".join(download(client, archive).streaming_content))
    }
    assert rows["kept.pdf"]["Result"] == "included"
    assert rows["gone.pdf"]["Result"] == "failed"
    assert rows["gone.pdf"]["Reason"] == "File not found. (HTTP 404)"
    assert rows["gone.pdf"]["File in archive"] == ""
    assert kept.id


def test_a_listing_debitura_fails_is_in_the_manifest_and_the_other_cases_are_archived(
    client, supervisor, emulator, archive_client, eager_tasks, django_capture_on_commit_callbacks
):
    from debitura.emulator.faults import FaultConfig

    cases = list(Case.objects.filter(lifecycle="Active").order_by("-remote_updated_at", "-id")[:2])
    for case in cases:
        add_remote_file(emulator, str(case.pk), "statement.pdf")
    # Every listing of files fails with a 500 (the client retries, then gives up).
    emulator.faults.configure(FaultConfig(error_rate=1.0, methods=["GET"], paths=["/cases/{id}/files"]))
    client.force_login(supervisor)

    archive = start(client, django_capture_on_commit_callbacks, case=str(cases[0].pk))

    archive.refresh_from_db()
    assert archive.state == ExportJob.State.READY
    rows = manifest(b"".join(download(client, archive).streaming_content))
    assert [(row["Name at Debitura"], row["Result"]) for row in rows] == [("(the list of files)", "failed")]
    assert "Internal server error (injected by the emulator)." in rows[0]["Reason"]


@pytest.fixture
def big_emulator() -> Emulator:
    return Emulator(cases=230, seed=11, api_key=EMULATOR_API_KEY)


@pytest.fixture
def big_synced(db: None, big_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[DebituraClient]:
    from cases.sync import cases_sync_incremental

    with make_client(big_emulator.transport()) as client:
        run = cases_sync_incremental(client=client)
        assert not run.error, run.error
        monkeypatch.setattr(exports.archives, "archive_client", lambda: client)
        yield client


def test_a_filter_over_200_cases_archives_every_cases_files(
    client, supervisor, big_emulator, big_synced, eager_tasks, django_capture_on_commit_callbacks
):
    query = "tab=all&sort=reference"
    wanted = list(Case.objects.filter(gone_at__isnull=True, is_test_case=False).order_by("reference"))
    assert len(wanted) > 200
    files = {str(c.pk): remote_files(big_emulator, str(c.pk)) for c in wanted}
    client.force_login(supervisor)

    archive = start(client, django_capture_on_commit_callbacks, query=query)

    archive.refresh_from_db()
    assert archive.state == ExportJob.State.READY, archive.error
    assert archive.cases_total == archive.cases_done == len(wanted)
    assert archive.files_done == sum(len(f) for f in files.values()) > 200
    body = b"".join(download(client, archive).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        folders = {name.split("/", 1)[0] for name in zf.namelist() if "/" in name}
    assert folders == {c.reference for c in wanted if files[str(c.pk)]}
    assert [row["Case"] for row in manifest(body)] == [c.reference for c in wanted for _ in files[str(c.pk)]]


def ready_archive(user: Any, tmp_path: Path, settings: Any, **fields: Any) -> ExportJob:
    folder = Path(settings.EXPORT_ARCHIVE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    archive = ExportJob.objects.create(user=user, label="Documents", state=ExportJob.State.READY)
    path = folder / f"documents-{archive.pk}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.csv", "Case\n")
    now = timezone.now()
    values = {"finished_at": now, "expires_at": now + timedelta(hours=24), "file_path": path.name, **fields}
    ExportJob.objects.filter(pk=archive.pk).update(**values)
    archive.refresh_from_db()
    return archive


def test_only_the_owner_downloads_and_agents_get_403(client, supervisor, agent, tmp_path, settings):
    archive = ready_archive(supervisor, tmp_path, settings)
    other = UserFactory(username="other-supervisor", role="Supervisor")

    client.force_login(agent)
    assert download(client, archive).status_code == 403
    assert client.get(reverse("exports:job", args=[archive.pk])).status_code == 403
    client.force_login(other)
    assert download(client, archive).status_code == 404
    assert client.get(reverse("exports:job", args=[archive.pk])).status_code == 404
    client.force_login(supervisor)
    response = download(client, archive)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    client.logout()
    assert download(client, archive).status_code == 302  # to sign in


def test_expired_archives_are_deleted_by_the_beat_task_and_no_longer_served(
    client, supervisor, tmp_path, settings
):
    old = ready_archive(supervisor, tmp_path, settings, expires_at=timezone.now() - timedelta(minutes=1))
    fresh = ready_archive(supervisor, tmp_path, settings)
    old_path = Path(settings.EXPORT_ARCHIVE_DIR) / old.file_path

    assert export_jobs_expire() == 1

    old.refresh_from_db()
    assert old.state == ExportJob.State.EXPIRED
    assert not old_path.exists()
    assert (Path(settings.EXPORT_ARCHIVE_DIR) / fresh.file_path).exists()
    client.force_login(supervisor)
    assert download(client, old).status_code == 404
    assert "was deleted" in client.get(reverse("exports:job", args=[old.pk])).content.decode()


def test_an_archive_past_its_time_is_not_served_even_before_the_beat_deletes_it(
    client, supervisor, tmp_path, settings
):
    archive = ready_archive(supervisor, tmp_path, settings, expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(supervisor)

    assert download(client, archive).status_code == 404


def test_the_job_page_polls_while_building_and_offers_the_download_when_ready(
    client, supervisor, tmp_path, settings
):
    archive = ExportJob.objects.create(
        user=supervisor, label="Documents of the cases in the list", state=ExportJob.State.RUNNING,
        cases_total=400, cases_done=100, started_at=timezone.now() - timedelta(minutes=2),
    )  # fmt: skip
    page = reverse("exports:job", args=[archive.pk])
    client.force_login(supervisor)

    building = client.get(page).content.decode()
    assert 'hx-trigger="every 2s"' in building
    assert "about 6 minutes left" in building
    assert 'value="100" max="400"' in building
    partial = client.get(page, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="job-progress"')

    ready = ready_archive(supervisor, tmp_path, settings)
    done = client.get(reverse("exports:job", args=[ready.pk])).content.decode()
    assert "hx-trigger" not in done.split('id="job-progress"', 1)[1].split(">", 1)[0]
    assert reverse("exports:job_download", args=[ready.pk]) in done


def test_the_estimate_uses_the_pace_so_far_or_before_that_the_rate_limits_share(supervisor):
    now = timezone.now()
    archive = ExportJob(user=supervisor, state=ExportJob.State.RUNNING, cases_total=1000, cases_done=0)
    assert export_job_estimate(job=archive, now=now).seconds_left == pytest.approx(120)  # 500 a minute
    archive.cases_done, archive.started_at = 250, now - timedelta(seconds=50)
    estimate = export_job_estimate(job=archive, now=now)
    assert (estimate.percent, estimate.seconds_left, estimate.minutes_left) == (25, pytest.approx(150), 3)


def test_the_case_pages_files_section_has_the_zip_button_for_supervisors_only(
    client, supervisor, agent, synced
):
    from cases.models import CaseFile

    case = Case.objects.filter(lifecycle="Active").first()
    CaseFile.objects.create(id=uuid.uuid4(), case=case, file_name="a.pdf")
    Case.objects.filter(pk=case.pk).update(children_synced_at=timezone.now())
    url = reverse("cases:detail", args=[case.pk])

    client.force_login(supervisor)
    assert f'action="{START}"' in client.get(url).content.decode()
    client.force_login(agent)
    assert f'action="{START}"' not in client.get(url).content.decode()
