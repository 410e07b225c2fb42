"""Opening a case's file: always through the portal, never a link to Debitura's storage.

The signed link Debitura handed out is refreshed when it is old or refused, the bytes are
streamed, and the content type is ours (from the extension, confirmed by the first bytes), never
the remote one. Programs are not handed out, nor archives with one inside, by the same checks as
an upload's (documents.checks).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.utils import timezone

from cases.models import CaseFile
from debitura.client import DebituraClient, FileDownload, get_client
from debitura.errors import LinkRefused, NotFound
from debitura.validation import MAX_UPLOAD_BYTES
from documents.checks import CHUNK, ZIP_HEADS, archive_problem, document_served_as, program_kind

# Debitura's signed links last about an hour; older ones are refreshed before they are tried.
LINK_FRESH_FOR = timedelta(minutes=50)
# Files from Debitura that are archives are read whole and checked before the first byte is sent.
MAX_OPENED_ARCHIVE_BYTES = 4 * MAX_UPLOAD_BYTES


class DocumentRefused(Exception):
    """A file from Debitura the portal does not hand out (a program, an archive holding one, or
    one too big to check); the message says why, as "it ...", in words for the agent."""


@dataclass
class OpenedFile:
    """A file streaming from Debitura, with the type and disposition the portal decided on."""

    file_name: str
    content_type: str
    inline: bool
    size: int | None
    _head: bytes
    _download: FileDownload
    _rest: Iterator[bytes]
    _spool: IO[bytes] | None = None  # an archive, read whole and checked before it is sent

    def __iter__(self) -> Iterator[bytes]:
        if self._head:
            yield self._head
        yield from self._rest

    def close(self) -> None:
        self._download.close()
        if self._spool is not None:
            self._spool.close()


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(CHUNK):
        yield chunk


def _opened_archive(head: bytes, rest: Iterator[bytes]) -> IO[bytes]:
    """The whole archive in a spooled file, once archive_problem has found nothing in it."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (OpenedFile closes it)
    try:
        spool.write(head)
        size = len(head)
        for chunk in rest:
            size += len(chunk)
            if size > MAX_OPENED_ARCHIVE_BYTES:
                limit = MAX_OPENED_ARCHIVE_BYTES // 1024 // 1024
                raise DocumentRefused(
                    f"it is an archive of more than {limit} MB, too big to check for programs."
                )
            spool.write(chunk)
        problem = archive_problem(spool)
        if problem:
            raise DocumentRefused(f"it {problem}")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def case_file_link_refresh(
    *, case_file: CaseFile, client: DebituraClient, now: datetime | None = None
) -> CaseFile:
    """Fetch fresh signed links for the case's files; NotFound when this one is gone at Debitura."""
    now = now or timezone.now()
    fresh = {f.id.lower(): f.url for f in client.list_files(str(case_file.case_id)) if f.url}
    # One read and one bulk write however many files the case has, not an UPDATE per file.
    known = list(CaseFile.objects.filter(case_id=case_file.case_id, id__in=fresh).only("id"))
    for known_file in known:
        known_file.url, known_file.url_fetched_at = fresh[str(known_file.id).lower()], now
    CaseFile.objects.bulk_update(known, ["url", "url_fetched_at"])
    url = fresh.get(str(case_file.id).lower())
    if url is None:
        raise NotFound("This file is no longer on the case at Debitura.", status=404)
    case_file.url, case_file.url_fetched_at = url, now
    return case_file


def case_file_open(
    *,
    case_file: CaseFile,
    client: DebituraClient | None = None,
    now: datetime | None = None,
    refresh: Callable[..., CaseFile] = case_file_link_refresh,
) -> OpenedFile:
    """Start streaming a case's file from Debitura: a fresh link when the stored one is old or
    refused, and a content type from the extension that the first bytes must confirm. A program,
    or an archive with one inside (read whole and checked first), is DocumentRefused."""
    client = client or get_client()
    now = now or timezone.now()
    refreshed = False
    if not case_file.url or not case_file.url_fetched_at or now - case_file.url_fetched_at > LINK_FRESH_FOR:
        case_file = refresh(case_file=case_file, client=client, now=now)
        refreshed = True
    try:
        download = client.open_file_download(case_file.url)
    except LinkRefused as exc:
        if refreshed or exc.status == 0:  # status 0: the gateway would not follow it at all
            raise
        case_file = refresh(case_file=case_file, client=client, now=now)
        download = client.open_file_download(case_file.url)
    rest = iter(download)
    head = b""
    try:
        while len(head) < 1024 and (chunk := next(rest, b"")):
            head += chunk
    except BaseException:
        download.close()
        raise
    content_type, inline = document_served_as(case_file.file_name, head)
    spool = None
    try:
        # Programs are not handed out, nor archives (a .docx or .xlsx too) holding one.
        program = program_kind(head)
        if program:
            raise DocumentRefused(f"it looks like {program}; the portal does not hand out programs.")
        if head.startswith(ZIP_HEADS):
            spool = _opened_archive(head, rest)
            head, rest = b"", _chunks(spool)
    except BaseException:
        download.close()
        raise
    if download.size is not None and download.size != case_file.size:
        CaseFile.objects.filter(pk=case_file.pk).update(size=download.size)
    return OpenedFile(
        file_name=case_file.file_name,
        content_type=content_type,
        inline=inline,
        size=download.size,
        _head=head,
        _download=download,
        _rest=rest,
        _spool=spool,
    )
