"""Case documents: what may be uploaded, the uploads on their way, and opening a file safely.

An upload is checked here before anything is stored or sent: a safe name, one of Debitura's
extensions, at most 25 MB, and content that is what its extension says (magic bytes, the
structure of Office files, no NULs in text), so a renamed program is refused with a message
that names the file. cases.actions.case_file_upload stores it and writes the outbox row.

Opening a file always goes through the portal: the signed link Debitura handed out is
refreshed when it is old or refused, the bytes are streamed, and the content type is ours
(from the extension, confirmed by the first bytes), never the remote one.
"""

from __future__ import annotations

import codecs
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import IO, Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from cases.models import DOCUMENT_TYPE_LABELS, CaseFile, OutboxAction
from debitura import types
from debitura.client import DebituraClient, FileDownload, get_client
from debitura.errors import LinkRefused, NotFound
from debitura.validation import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES

# Debitura's signed links last about an hour; older ones are refreshed before they are tried.
LINK_FRESH_FOR = timedelta(minutes=50)
MAX_NAME_LENGTH = 150
_CHUNK = 1024 * 1024

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".eml": "message/rfc822",
}
# Shown in the browser rather than saved: types browsers render without running anything.
INLINE_EXTENSIONS = frozenset({".pdf", ".png", ".jpg", ".jpeg"})
TEXT_EXTENSIONS = frozenset({".txt", ".csv", ".eml"})

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".doc": (_OLE,),
    ".xls": (_OLE,),
    ".zip": _ZIP,
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
# What a program looks like, to say so when one arrives under a document's name.
_PROGRAMS = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
)
# OLE stream names (UTF-16LE) that make a compound file a Word or Excel document; an installer
# (.msi) is an OLE file too and has neither.
_OLE_STREAMS = {
    ".doc": ("WordDocument".encode("utf-16-le"),),
    ".xls": ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le")),
}
_OOXML_PART = {".docx": "word/", ".xlsx": "xl/"}
_RUNNABLE_IN_ZIP = frozenset(
    {".exe", ".dll", ".scr", ".com", ".bat", ".cmd", ".msi", ".ps1", ".vbs", ".js", ".jar", ".lnk", ".hta"}
)
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


class DocumentInvalid(ValueError):
    """The file cannot be uploaded; the message says why, in words for the agent."""


# --- Checks before anything is stored or sent ----------------------------------------------------


def document_name_safe(name: str) -> str:
    """A file name safe for storage and for Debitura: no folders, no control or odd characters."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    try:
        safe = get_valid_filename(base)
    except SuspiciousFileOperation:
        raise DocumentInvalid("The file has no usable name.") from None
    path = PurePath(safe)
    stem, extension = path.stem, path.suffix
    if not stem or safe.startswith("."):
        raise DocumentInvalid(f"{safe} has no name before its extension.")
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension


def document_download_name(name: str) -> str:
    """A file name from Debitura as the browser is told to save it (Content-Disposition): its last
    path component, without control or invisible characters (a right-to-left override turns
    "invoice\u202efdp.exe" into "invoiceexe.pdf" on screen), nor the dots and spaces Windows
    drops at either end."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(". ")
    if not base:
        return "file"
    extension = PurePath(base).suffix[:16]
    return base if len(base) <= MAX_NAME_LENGTH else base[: MAX_NAME_LENGTH - len(extension)] + extension


def document_check(*, file: Any) -> str:
    """Check an upload (name, extension, size, content); its safe name, or DocumentInvalid."""
    name = document_name_safe(file.name or "")
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        allowed = " ".join(sorted(ALLOWED_EXTENSIONS))
        raise DocumentInvalid(
            f"{name}: files of type {extension or '(none)'} are not accepted by Debitura; allowed: {allowed}."
        )
    size = file.size
    if size is None or size > MAX_UPLOAD_BYTES:
        raise DocumentInvalid(
            f"{name} is larger than 25 MB ({MAX_UPLOAD_BYTES:,} bytes), the most Debitura takes."
        )
    if size == 0:
        raise DocumentInvalid(f"{name} is empty.")
    problem = document_content_problem(file, extension)
    if problem:
        raise DocumentInvalid(f"{name} {problem}")
    return name


def document_content_problem(file: IO[bytes] | Any, extension: str) -> str | None:
    """Why the content is not a real `extension` file (ending the sentence "<name> ..."), or None."""
    file.seek(0)
    head = file.read(4096)
    try:
        program = _program(head)
        if program:
            return f"looks like {program}, not a {extension} file."
        if extension == ".pdf":
            return None if b"%PDF-" in head[:1024] else "is not a PDF (it does not start with %PDF-)."
        if extension in TEXT_EXTENSIONS:
            return _text_problem(file, head, extension)
        if not head.startswith(_MAGIC[extension]):
            return f"is not a {extension} file (its first bytes do not match)."
        if extension in _OLE_STREAMS:
            if not _contains(file, _OLE_STREAMS[extension]):
                return f"is an Office compound file but not a {extension} document (an installer?)."
            return None
        return _zip_problem(file, extension) if extension in (".zip", *_OOXML_PART) else None
    finally:
        file.seek(0)


def document_head_matches(extension: str, head: bytes) -> bool:
    """The first bytes fit the extension (for files coming from Debitura, read as they stream)."""
    extension = extension.lower()
    if _program(head):
        return False
    if extension == ".pdf":
        return b"%PDF-" in head[:1024]
    if extension in TEXT_EXTENSIONS:
        return b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    return head.startswith(_MAGIC.get(extension, (b"\x00\x00\x00unknown",)))


def _program(head: bytes) -> str | None:
    """What kind of program the first bytes are, or None."""
    for magic, program in _PROGRAMS:
        # "MZ" also starts ordinary words; a real Windows program has NULs right after it.
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in head[:64]):
            return program
    return None


def document_served_as(file_name: str, head: bytes) -> tuple[str, bool]:
    """The content type a file is served with and whether it is shown inline: the extension's
    type only when the first bytes confirm it, else an inert download."""
    extension = PurePath(file_name).suffix.lower()
    if extension not in CONTENT_TYPES or not document_head_matches(extension, head):
        return "application/octet-stream", False
    return CONTENT_TYPES[extension], extension in INLINE_EXTENSIONS


def _text_problem(file: Any, head: bytes, extension: str) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 (Notepad's "Unicode", Excel's "Unicode text") is text full of NULs.
        # Decoded a megabyte at a time: validity over the whole file, never all of it in memory.
        decoder = codecs.getincrementaldecoder("utf-16")()
        file.seek(0)
        try:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "is not text (it is not valid UTF-16)."
        return None
    if _contains(file, (b"\x00",)):
        return f"is not text (it contains binary data), so it cannot be a {extension} file."
    if extension == ".eml":
        first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
        name, colon, _ = first.partition(b":")
        is_header = colon and name and all(33 <= byte <= 126 for byte in name)
        if not (is_header or first.startswith(b"From ")):
            return "is not an e-mail message (it does not start with a header such as From:)."
    return None


def _contains(file: Any, needles: Iterable[bytes]) -> bool:
    """Any of `needles` anywhere in the file, read a megabyte at a time."""
    needles = tuple(needles)
    overlap = max(len(n) for n in needles) - 1
    file.seek(0)
    tail = b""
    while chunk := file.read(_CHUNK):
        window = tail + chunk
        if any(needle in window for needle in needles):
            return True
        tail = window[-overlap:] if overlap else b""
    return False


def _zip_problem(file: Any, extension: str) -> str | None:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return f"is damaged or not a {extension} file (its archive cannot be read)."
    if extension == ".zip":
        runnable = sorted({n for n in names if PurePath(n).suffix.lower() in _RUNNABLE_IN_ZIP})
        if runnable:
            return f"contains programs or scripts ({', '.join(runnable[:3])}); they are not accepted."
        return None
    part = _OOXML_PART[extension]
    if "[Content_Types].xml" not in names or not any(n.startswith(part) for n in names):
        return f"is a zip archive but not a {extension} document."
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return "contains macros; save it without macros (as a plain .docx or .xlsx) and try again."
    return None


class DocumentSizeLimit(FileUploadHandler):
    """Keeps at most 25 MB and one byte of each file while a request is read (put it first in
    `request.upload_handlers`): an oversized upload costs no more disk than that, and
    document_check refuses it by its size."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        room = MAX_UPLOAD_BYTES + 1 - start
        if room <= 0:
            return None  # later handlers never see the rest
        return raw_data[:room]

    def file_complete(self, file_size: int) -> None:
        return None


# --- Uploads on their way --------------------------------------------------------------------


def case_uploads_shown(*, actions: Iterable[OutboxAction], files: Iterable[CaseFile]) -> list[OutboxAction]:
    """Upload rows the file list shows beside Debitura's files: on their way, failed, or done but
    not in the local list yet. Read from the rows the case page already loaded: no query."""
    listed = {str(f.id) for f in files}
    shown = []
    for action in actions:
        if action.kind != OutboxAction.Kind.FILE_UPLOAD or action.state == OutboxAction.State.CANCELLED:
            continue
        if action.state == OutboxAction.State.DONE:
            remote_id = action.response.get("id") if isinstance(action.response, dict) else None
            if not remote_id or str(remote_id) in listed:
                continue
        action.document_type_label = DOCUMENT_TYPE_LABELS.get(  # type: ignore[attr-defined]
            action.payload.get("document_type") or "", action.payload.get("document_type") or ""
        )
        shown.append(action)
    return shown


def case_file_uploaded(action: OutboxAction, result: Any) -> None:
    """The relay's confirmation of an upload: the file joins the list with who uploaded it and
    its size, and the copy kept for the relay is removed once the row is committed as done."""
    p = action.payload
    if isinstance(result, types.CaseFile) and result.id:
        CaseFile.objects.update_or_create(
            id=result.id,
            defaults={
                "case_id": action.case_id,
                "file_name": (result.file_name or p["file_name"])[:300],
                "description": (result.description or p.get("description") or "")[:500],
                "document_type": result.document_type or p.get("document_type") or "",
                "entity_type": result.entity_type or "",
                "date_created": result.date_created or timezone.now(),
                "url": result.url or "",
                "url_fetched_at": timezone.now() if result.url else None,
                "uploaded_by_id": action.actor_id,
                "size": p.get("size"),
            },
        )
    _discard_on_commit(p.get("stored_name"))


def case_file_upload_undo(action: OutboxAction, cancelled: bool) -> None:
    """A cancelled upload's copy is removed; a failed one's is kept, so it can be retried."""
    if cancelled:
        _discard_on_commit(action.payload.get("stored_name"))


def _discard_on_commit(stored_name: str | None) -> None:
    if stored_name:
        transaction.on_commit(lambda: default_storage.delete(stored_name))


# --- Opening a file ------------------------------------------------------------------------------


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

    def __iter__(self) -> Iterator[bytes]:
        if self._head:
            yield self._head
        yield from self._rest

    def close(self) -> None:
        self._download.close()


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
    refused, and a content type from the extension that the first bytes must confirm."""
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
    )
