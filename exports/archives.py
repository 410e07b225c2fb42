"""Case documents as a ZIP, built by a worker: one case, or every case of a list filter.

Each case's files are listed at Debitura (fresh signed links) and opened the way the case page
opens them (documents.opening: a refused link is refreshed once; programs and archives holding
one are left out), through a client that takes a capped share of the key's rate limit, so
agents' own calls keep their room while an archive of thousands of cases is built. The ZIP is
written on disk under EXPORT_ARCHIVE_DIR: one folder per case named by its reference, safe and
de-duplicated file names, and manifest.csv saying what is in it and what failed, in Debitura's
words. It is kept for EXPORT_ARCHIVE_HOURS, then the beat's task deletes it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from celery import signature
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from cases.models import Case
from cases.models import CaseFile as LocalFile
from debitura.client import DebituraClient, client_from_settings
from debitura.errors import DebituraError, LinkRefused, PermanentError
from documents.checks import DocumentInvalid, document_name_safe
from documents.opening import DocumentRefused, case_file_open
from exports.cases import cases_export_queryset
from exports.jobs import ARCHIVE_SHARE, export_directory, export_job_fail, export_job_finish
from exports.models import ExportJob
from partnerportal.spreadsheet import spreadsheet_text

log = logging.getLogger(__name__)

BUILD_TASK = "exports.documents_archive_build"
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (
    "Case",
    "Agency reference",
    "File in archive",
    "Name at Debitura",
    "Type",
    "Bytes",
    "Result",
    "Reason",
)
SPOOL_BYTES = 1024 * 1024  # a file is kept in memory up to this size, then on disk, before it is zipped

_clients: dict[int, DebituraClient] = {}


def archive_client() -> DebituraClient:
    """This process's client for archives, held to ARCHIVE_SHARE of the key's limits."""
    pid = os.getpid()
    if pid not in _clients:
        _clients[pid] = client_from_settings(share=("exports", ARCHIVE_SHARE))
    return _clients[pid]


def documents_archive_create(
    *, user: Any, case: Case | None = None, query: str = "", described: str = ""
) -> ExportJob:
    """Record an archive to build (one case, or the list filter `query`, `described` in words)
    and queue it on commit."""
    if case is not None:
        label = f"Documents of case {case.reference}"
        query = ""
    else:
        label = f"Documents of the list: {described}" if described else "Documents of the list"
    archive = ExportJob.objects.create(
        user=user, kind=ExportJob.Kind.DOCUMENTS, case=case, query=query[:2000], label=label[:300]
    )
    transaction.on_commit(lambda: signature(BUILD_TASK, args=(archive.pk,)).delay())
    return archive


@dataclass(frozen=True)
class Entry:
    """One line of the manifest."""

    reference: str
    partner_reference: str
    path: str
    name: str
    document_type: str
    size: int | None
    ok: bool
    reason: str = ""


def debitura_words(exc: BaseException) -> str:
    """What Debitura said (its message, its businessErrors), else what went wrong, in words."""
    if isinstance(exc, DocumentRefused):
        return f"The portal leaves it out: {exc}"
    if isinstance(exc, LinkRefused) and exc.body:
        # The file host's own answer, e.g. {"error": "NotFound", "message": "File not found."}.
        try:
            body = json.loads(exc.body)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("message"):
            return f"{body['message']} (HTTP {exc.status})"
    if isinstance(exc, PermanentError):
        details = [error.message for error in exc.business_errors if error.message]
        words = " ".join([exc.message, *details]).strip()
        return f"{words} (HTTP {exc.status})"
    return str(exc) or type(exc).__name__


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or "name (2).ext", "name (3).ext"... not yet in `taken` (compared ignoring case)."""
    path = PurePath(name)
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{path.stem} ({number}){path.suffix}"
    taken.add(candidate.casefold())
    return candidate


def _file_name(name: str | None) -> str:
    try:
        return document_name_safe(name or "")
    except DocumentInvalid:
        return "file"


def _folder_name(reference: str, fallback: str) -> str:
    try:
        return get_valid_filename(reference) or fallback
    except Exception:
        return fallback


def _archive_cases(archive: ExportJob) -> list[tuple[Any, str, str]]:
    """(id, reference, agency reference) of the cases to archive, in the list's order."""
    if archive.case_id is not None:
        cases = Case.objects.filter(pk=archive.case_id)
    else:
        cases = cases_export_queryset(query=archive.query, user=archive.user)
    # Read whole before the first file: the build runs for minutes and should hold no cursor.
    return list(cases.values_list("id", "reference", "partner_reference"))


def _case_entries(
    *, zf: zipfile.ZipFile, case: tuple[Any, str, str], folder: str, client: DebituraClient, now: datetime
) -> Iterable[Entry]:
    case_id, reference, partner = case
    try:
        remote = [f for f in client.list_files(str(case_id)) if f.url]
    except DebituraError as exc:
        yield Entry(reference, partner, "", "(the list of files)", "", None, False, debitura_words(exc))
        return
    taken: set[str] = set()
    for remote_file in remote:
        path = f"{folder}/{_unique(_file_name(remote_file.file_name), taken)}"
        kind = remote_file.document_type or ""
        shown = remote_file.file_name or ""
        local = LocalFile(
            id=remote_file.id, case_id=case_id, file_name=shown, url=remote_file.url or "", url_fetched_at=now
        )
        try:
            size = _zip_one(zf, path, local, client)
        except (DebituraError, DocumentRefused) as exc:
            yield Entry(reference, partner, "", shown, kind, None, False, debitura_words(exc))
        else:
            yield Entry(reference, partner, path, shown, kind, size, True)


def _zip_one(zf: zipfile.ZipFile, path: str, local: LocalFile, client: DebituraClient) -> int:
    """Fetch one file whole (spooled) and add it to the archive; its size in bytes."""
    opened = case_file_open(case_file=local, client=client)
    size = 0
    # Whole before it enters the ZIP: a download cut halfway leaves no half file in the archive.
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        try:
            for chunk in opened:
                spool.write(chunk)
                size += len(chunk)
        finally:
            opened.close()
        spool.seek(0)
        with zf.open(path, "w", force_zip64=True) as entry:
            shutil.copyfileobj(spool, entry)
    return size


def _manifest(entries: list[Entry]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(MANIFEST_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                spreadsheet_text(value)
                for value in (e.reference, e.partner_reference, e.path, e.name, e.document_type)
            ]
            + ["" if e.size is None else e.size, "included" if e.ok else "failed", spreadsheet_text(e.reason)]
        )
    return ("\ufeff" + text.getvalue()).encode()


def documents_archive_build(*, archive_id: int, client: DebituraClient | None = None) -> ExportJob:
    """Build the archive: every case's files into one ZIP on disk, progress saved case by case."""
    archive = ExportJob.objects.select_related("user").get(pk=archive_id)
    if archive.state not in (ExportJob.State.QUEUED, ExportJob.State.RUNNING):
        return archive  # built, failed or expired already: a redelivered task does nothing
    client = client or archive_client()
    started = timezone.now()
    cases = _archive_cases(archive)
    ExportJob.objects.filter(pk=archive.pk).update(
        state=ExportJob.State.RUNNING, started_at=started, cases_total=len(cases),
        cases_done=0, files_done=0, files_failed=0, bytes_done=0,
    )  # fmt: skip
    final = export_directory() / f"documents-{archive.pk}.zip"
    partial = final.with_suffix(".zip.part")
    entries: list[Entry] = []
    folders: set[str] = set()
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            ok = failed = size = 0
            for done, case in enumerate(cases, start=1):
                folder = _unique(_folder_name(case[1], str(case[0])), folders)
                for entry in _case_entries(
                    zf=zf, case=case, folder=folder, client=client, now=timezone.now()
                ):
                    entries.append(entry)
                    ok, failed = ok + entry.ok, failed + (not entry.ok)
                    size += entry.size or 0
                ExportJob.objects.filter(pk=archive.pk).update(
                    cases_done=done, files_done=ok, files_failed=failed, bytes_done=size
                )
            zf.writestr(MANIFEST_NAME, _manifest(entries))
        partial.replace(final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        log.exception("documents archive %s failed", archive.pk)
        return export_job_fail(job=archive, error=str(exc))
    return export_job_finish(job=archive, path=final)
