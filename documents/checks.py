"""Upload checks: what may be uploaded, and what a file from Debitura may be served as.

An upload is checked here before anything is stored or sent: a safe name, one of Debitura's
extensions, at most 25 MB, and content that is what its extension says (magic bytes, the
structure of Office files, no NULs in text), so a renamed program is refused with a message
that names the file. documents.actions.case_file_upload stores it and writes the outbox row.
The same checks decide what a file opened from Debitura is served as (documents.opening).

Over 400 lines because the lists of what Windows runs and which archives cannot be looked into
belong next to the walk that uses them; everything here is pure Python without the database.
"""

from __future__ import annotations

import codecs
import lzma
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.text import get_valid_filename

from debitura.validation import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES

MAX_NAME_LENGTH = 150
CHUNK = 1024 * 1024  # files are read a megabyte at a time, never whole

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
ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
_MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".doc": (_OLE,),
    ".xls": (_OLE,),
    ".zip": ZIP_HEADS,
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
# Names Windows runs, opens as code or mounts: Outlook's blocked attachment types (Microsoft,
# "Blocked attachments in Outlook", level 1) and the disk images that carry programs past it.
_RUNNABLE = frozenset((
    ".ade", ".adp", ".app", ".application", ".appref-ms", ".asp", ".aspx", ".asx", ".bas", ".bat", ".bgi",
    ".cer", ".chm", ".cmd", ".cnt", ".com", ".cpl", ".crt", ".csh", ".der", ".diagcab", ".dll", ".exe",
    ".fxp", ".gadget", ".grp", ".hlp", ".hpj", ".hta", ".htc", ".inf", ".ins", ".isp", ".its", ".jar",
    ".jnlp", ".js", ".jse", ".ksh", ".lnk", ".mad", ".maf", ".mag", ".mam", ".maq", ".mar", ".mas",
    ".mat", ".mau", ".mav", ".maw", ".mcf", ".mda", ".mdb", ".mde", ".mdt", ".mdw", ".mdz", ".msc",
    ".msh", ".msh1", ".msh2", ".mshxml", ".msh1xml", ".msh2xml", ".msi", ".msix", ".msp", ".mst", ".msu",
    ".ocx", ".ops", ".osd", ".pcd", ".pif", ".pl", ".plg", ".prf", ".prg", ".printerexport", ".ps1",
    ".ps1xml", ".ps2", ".ps2xml", ".psc1", ".psc2", ".psd1", ".psdm1", ".psm1", ".pst", ".py", ".pyc",
    ".pyo", ".pyw", ".pyz", ".pyzw", ".reg", ".scf", ".scr", ".sct", ".settingcontent-ms", ".shb", ".shs",
    ".sys", ".theme", ".tmp", ".url", ".vb", ".vbe", ".vbp", ".vbs", ".vhd", ".vhdx", ".vsmacros", ".vsw",
    ".webpnp", ".website", ".ws", ".wsb", ".wsc", ".wsf", ".wsh", ".xbap", ".xll", ".xnk", ".iso", ".img",
    ".appx", ".appxbundle", ".msixbundle", ".library-ms", ".search-ms",
))  # fmt: skip
# Archives the portal cannot look into: one inside a zip would carry anything past the check.
_SEALED_ARCHIVES = frozenset((
    ".7z", ".rar", ".cab", ".arj", ".lzh", ".lha", ".ace", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".zst",
    ".z", ".cpio", ".dmg", ".wim", ".zipx",
))  # fmt: skip
# A zip inside a zip inside a zip is as deep as a document bundle goes; the rest is a zip bomb's
# shape, as are more files or more unpacked bytes (declared, over every level) than these.
MAX_ARCHIVE_DEPTH = 3
MAX_ARCHIVE_ENTRIES = 10_000
MAX_UNPACKED_BYTES = 10 * MAX_UPLOAD_BYTES  # documents pack to a tenth at best
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
        program = program_kind(head)
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
    if program_kind(head):
        return False
    if extension == ".pdf":
        return b"%PDF-" in head[:1024]
    if extension in TEXT_EXTENSIONS:
        return b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    return head.startswith(_MAGIC.get(extension, (b"\x00\x00\x00unknown",)))


def program_kind(head: bytes) -> str | None:
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
            while chunk := file.read(CHUNK):
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
    while chunk := file.read(CHUNK):
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
    except _UNREADABLE:
        return f"is damaged or not a {extension} file (its archive cannot be read)."
    if extension in _OOXML_PART:
        part = _OOXML_PART[extension]
        if "[Content_Types].xml" not in names or not any(n.startswith(part) for n in names):
            return f"is a zip archive but not a {extension} document."
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return "contains macros; save it without macros (as a plain .docx or .xlsx) and try again."
    return archive_problem(file)


_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a compression method Python cannot unpack (Deflate64, PPMd)
    OSError,
    ValueError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
)


@dataclass
class _Unpacked:
    """What the archive walk has counted so far, over every level."""

    entries: int = 0
    size: int = 0


def archive_problem(
    file: IO[bytes] | Any, *, depth: int = 1, within: str = "", seen: Any = None
) -> str | None:
    """Why a zip (a .docx and .xlsx too) is refused (ending the sentence "<name> ..."), or None.

    Every entry at every level is looked at: a name outside the archive's folder (../x, /x, C:x,
    backslashes counted as folders), a program or script by its name as Windows reads it
    (run.exe. and "run.exe " are run.exe) or by its first bytes (an MZ program called "notes"),
    an archive the portal cannot open, a password. Zips inside are opened up to
    MAX_ARCHIVE_DEPTH; more than MAX_ARCHIVE_ENTRIES files or MAX_UNPACKED_BYTES unpacked (as the
    archives declare them, which is also all zipfile will unpack) is a zip bomb.
    """
    unpacked = seen or _Unpacked()
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            unpacked.entries += len(entries)
            unpacked.size += sum(entry.file_size for entry in entries)
            if unpacked.entries > MAX_ARCHIVE_ENTRIES:
                return f"holds more than {MAX_ARCHIVE_ENTRIES:,} files; it is not accepted."
            if unpacked.size > MAX_UNPACKED_BYTES:
                megabytes = MAX_UNPACKED_BYTES // 1024 // 1024
                return f"unpacks to more than {megabytes} MB (a zip bomb?); it is not accepted."
            problem = _entry_names_problem([entry.filename for entry in entries], within)
            if problem:
                return problem
            for entry in entries:
                name = f"{within}{entry.filename}"
                if entry.is_dir():
                    continue
                if entry.flag_bits & 0x1:
                    return f"has password-protected files ({name}); the portal cannot check them."
                with archive.open(entry) as member:
                    head = member.read(4096)
                    program = program_kind(head) or ("a script" if head.startswith(b"#!") else None)
                    if program:
                        return f"contains programs or scripts ({name}: {program}); they are not accepted."
                    if head.startswith(ZIP_HEADS):
                        problem = _inner_archive_problem(member, head, entry, within, depth, unpacked)
                        if problem:
                            return problem
    except _UNREADABLE:
        where = f" ({within.rstrip('/')})" if within else ""
        return f"is damaged or an archive in it cannot be read{where}."
    return None


def _inner_archive_problem(
    member: IO[bytes], head: bytes, entry: zipfile.ZipInfo, within: str, depth: int, unpacked: _Unpacked
) -> str | None:
    name = f"{within}{entry.filename}"
    if depth >= MAX_ARCHIVE_DEPTH:
        return f"nests archives more than {MAX_ARCHIVE_DEPTH} deep ({name}); it is not accepted."
    if entry.file_size > MAX_UPLOAD_BYTES:
        return f"contains an archive of more than 25 MB unpacked ({name}); it is not accepted."
    # Read into a spooled file (zipfile needs to seek); its bytes were counted in `unpacked`.
    with tempfile.SpooledTemporaryFile(max_size=CHUNK) as inner:
        inner.write(head)
        shutil.copyfileobj(member, inner, CHUNK)
        return archive_problem(inner, depth=depth + 1, within=f"{name}/", seen=unpacked)


def _entry_names_problem(names: list[str], within: str) -> str | None:
    """Names outside the archive's folder, of programs, of archives the portal cannot open."""
    for words, bad in (
        ("has files outside its own folder ({}); they are not accepted.", [n for n in names if _escapes(n)]),
        (
            "contains programs or scripts ({}); they are not accepted.",
            [n for n in names if _windows_suffix(n) in _RUNNABLE],
        ),
        (
            "contains archives the portal cannot look into ({}); they are not accepted.",
            [n for n in names if _windows_suffix(n) in _SEALED_ARCHIVES],
        ),
    ):
        if bad:
            return words.format(", ".join(f"{within}{n}" for n in bad[:3]))
    return None


def _escapes(name: str) -> bool:
    path = name.replace("\\", "/")
    drive = len(path) > 1 and path[1] == ":"
    return path.startswith("/") or drive or ".." in path.split("/")


def _windows_suffix(name: str) -> str:
    """The extension Windows goes by: after the last folder (either slash), before an NTFS
    stream (run.exe:x), without the dots and spaces it drops at the end (run.exe. is run.exe)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].split(":", 1)[0].rstrip(". ")
    return PurePath(base).suffix.lower() if base else ""


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
