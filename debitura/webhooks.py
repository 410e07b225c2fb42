"""Webhook signatures as Debitura documents them (API-NOTES, "Webhooks").

Header: ``X-Debitura-Signature: t=<unix seconds>,v1=<hex>``; v1 is HMAC-SHA256 over
``b"<t>." + raw body`` keyed with the base64-decoded subscription secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SIGNATURE_HEADER = "X-Debitura-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match the body."""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("The webhook secret is not valid base64.") from None


def _digest(secret: str, body: bytes, t: int) -> str:
    return hmac.new(_key(secret), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, t: int) -> str:
    """The header value Debitura would send for `body` at unix time `t`."""
    return f"t={t},v1={_digest(secret, body, t)}"


def verify(
    secret: str, body: bytes, header: str | None, now: float, *, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """Check a delivery; return its timestamp or raise SignatureError saying why it is refused."""
    if not header:
        raise SignatureError("The signature header is missing.")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        t = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("The signature header has no valid timestamp.") from None
    candidates = fields.get("v1")
    if not candidates:
        raise SignatureError("The signature header has no v1 signature.")
    if abs(now - t) > tolerance:
        raise SignatureError(f"The signature timestamp is more than {tolerance} seconds away from now.")
    expected = _digest(secret, body, t).encode()
    # Several v1 values may appear while a secret is being rotated; any match is enough. Compare
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters in a forged header.
    if not any(hmac.compare_digest(expected, candidate.lower().encode()) for candidate in candidates):
        raise SignatureError("The signature does not match the body.")
    return t
