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
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from cases.models import Case
from cases.models import CaseFile as LocalFile
from debitura.client import DebituraClient, client_from_settings
from debitura.errors import DebituraError, LinkRefused, PermanentError
from debitura.throttle import DEBITURA_WINDOWS
from documents.checks import DocumentInvalid, document_name_safe
from documents.opening import DocumentRefused, case_file_open
from exports.cases import cases_export_queryset
from exports.models import DocumentsArchive
from partnerportal.spreadsheet import spreadsheet_text

log = logging.getLogger(__name__)

BUILD_TASK = "exports.documents_archive_build"
# The share of the key's rate limit an archive may use: agents' actions and the sync keep the rest.
ARCHIVE_SHARE = 0.25
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


def archive_directory() -> Path:
    path = Path(settings.EXPORT_ARCHIVE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def documents_archive_create(
    *, user: Any, case: Case | None = None, query: str = "", described: str = ""
) -> DocumentsArchive:
    """Record an archive to build (one case, or the list filter `query`, `described` in words)
    and queue it on commit."""
    if case is not None:
        label = f"Documents of case {case.reference}"
        query = ""
    else:
        label = f"Documents of the list: {described}" if described else "Documents of the list"
    archive = DocumentsArchive.objects.create(user=user, case=case, query=query[:2000], label=label[:300])
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


def _archive_cases(archive: DocumentsArchive) -> list[tuple[Any, str, str]]:
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


def documents_archive_build(*, archive_id: int, client: DebituraClient | None = None) -> DocumentsArchive:
    """Build the archive: every case's files into one ZIP on disk, progress saved case by case."""
    archive = DocumentsArchive.objects.select_related("user").get(pk=archive_id)
    if archive.state not in (DocumentsArchive.State.QUEUED, DocumentsArchive.State.RUNNING):
        return archive  # built, failed or expired already: a redelivered task does nothing
    client = client or archive_client()
    started = timezone.now()
    cases = _archive_cases(archive)
    DocumentsArchive.objects.filter(pk=archive.pk).update(
        state=DocumentsArchive.State.RUNNING, started_at=started, cases_total=len(cases),
        cases_done=0, files_done=0, files_failed=0, bytes_done=0,
    )  # fmt: skip
    final = archive_directory() / f"documents-{archive.pk}.zip"
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
                DocumentsArchive.objects.filter(pk=archive.pk).update(
                    cases_done=done, files_done=ok, files_failed=failed, bytes_done=size
                )
            zf.writestr(MANIFEST_NAME, _manifest(entries))
        partial.replace(final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        log.exception("documents archive %s failed", archive.pk)
        DocumentsArchive.objects.filter(pk=archive.pk).update(
            state=DocumentsArchive.State.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        archive.refresh_from_db()
        return archive
    finished = timezone.now()
    DocumentsArchive.objects.filter(pk=archive.pk).update(
        state=DocumentsArchive.State.READY, finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_ARCHIVE_HOURS),
        file_path=final.name, file_size=final.stat().st_size,
    )  # fmt: skip
    archive.refresh_from_db()
    return archive


def documents_archive_path(*, archive: DocumentsArchive) -> Path | None:
    """The ready archive's file, or None (not ready, expired, or gone from disk)."""
    if archive.state != DocumentsArchive.State.READY or not archive.file_path:
        return None
    if archive.expires_at is not None and archive.expires_at <= timezone.now():
        return None
    path = archive_directory() / PurePath(archive.file_path).name  # never a path from elsewhere
    return path if path.is_file() else None


def documents_archives_expire(*, now: datetime | None = None) -> int:
    """Delete the files of archives past their expiry and mark them expired; how many."""
    now = now or timezone.now()
    expired = 0
    for archive in DocumentsArchive.objects.filter(state=DocumentsArchive.State.READY, expires_at__lte=now):
        if archive.file_path:
            (archive_directory() / PurePath(archive.file_path).name).unlink(missing_ok=True)
        DocumentsArchive.objects.filter(pk=archive.pk).update(state=DocumentsArchive.State.EXPIRED)
        expired += 1
    return expired


@dataclass(frozen=True)
class Estimate:
    """How far a build is and how long the rest should take, for the job page."""

    percent: int
    seconds_left: float | None

    @property
    def minutes_left(self) -> int | None:
        """Whole minutes, rounded half up, and never "about 0 minutes" until it is done."""
        return None if self.seconds_left is None else max(1, math.floor(self.seconds_left / 60 + 0.5))


def documents_archive_estimate(*, archive: DocumentsArchive, now: datetime | None = None) -> Estimate:
    """Progress in percent and the time left: from the pace so far once a few cases are done,
    before that from the rate limit's share (one listing per case, at least)."""
    now = now or timezone.now()
    total, done = archive.cases_total, archive.cases_done
    if archive.state == DocumentsArchive.State.READY:
        return Estimate(100, 0)
    if not total:
        return Estimate(0, None)
    percent = min(99, done * 100 // total)
    left = total - done
    if done and archive.started_at:
        pace = (now - archive.started_at).total_seconds() / done
        return Estimate(percent, pace * left)
    per_minute = DEBITURA_WINDOWS[0].limit * ARCHIVE_SHARE
    return Estimate(percent, left / per_minute * 60)
