"""Upload rules and the signed, expiring download links the emulator serves itself."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
ALLOWED_EXTENSIONS = frozenset(
    (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png", ".txt", ".zip", ".csv", ".eml")
)
LINK_LIFETIME_SECONDS = 3600
DOWNLOAD_PREFIX = "/_emulator/files/"

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".eml": "message/rfc822",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".zip": "application/zip",
}


def extension(file_name: str) -> str:
    dot = file_name.rfind(".")
    return file_name[dot:].lower() if dot >= 0 else ""


class FileLinks:
    """Signs `/_emulator/files/<id>?expires=..&sig=..` and checks such links against the clock."""

    def __init__(self, secret: bytes, now: Callable[[], float]) -> None:
        self._secret = secret
        self._now = now

    def _signature(self, file_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, base_url: str, file_id: str) -> str:
        expires = int(self._now()) + LINK_LIFETIME_SECONDS
        return (
            f"{base_url}{DOWNLOAD_PREFIX}{file_id}?expires={expires}&sig={self._signature(file_id, expires)}"
        )

    def valid(self, file_id: str, expires: str | None, signature: str | None) -> bool:
        """True for an unexpired link this emulator signed."""
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < self._now():
            return False
        return hmac.compare_digest(self._signature(file_id, int(expires)), signature)
