"""JSON and timestamps sent to Debitura, and error bodies read back, never passing money through a float.

Results are decoded by debitura.types (msgspec); this is what is left: request bodies, whose
amounts must go out exactly as given, and the untyped JSON of error answers.

Untyped JSON is read by msgspec too (non-integer numbers as Decimal). Request bodies are still
written by _encode, not by msgspec's encoder, which cannot do what a body needs: it writes
floats natively (enc_hook is never called for them, so they could only be refused by walking
the body first), writes a Decimal as str() gives it ("1E+2", where Debitura is sent 100), and
writes non-ASCII text unescaped, which would change the bytes a retry sends under the same
Idempotency-Key from those the first send had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

# Stricter than the json module: NaN and Infinity, lone surrogates and text that is not UTF-8
# are malformed (msgspec.DecodeError, a ValueError), so the client keeps such an error body as
# text, like any answer that is not JSON.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def loads(raw: bytes | str) -> Any:
    """Parse JSON with every non-integer number as a Decimal; malformed JSON raises ValueError."""
    return _DECODER.decode(raw)


def dumps(value: Any) -> bytes:
    """Encode JSON, writing Decimals as exact number literals; floats are refused."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as a JSON number.")
        # Fixed-point text keeps every digit the caller gave ("12.50" stays "12.50").
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("Amounts must be Decimal, not float: a float cannot say 0.1 exactly.")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(key))}:{_encode(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return json.dumps(value)


def json_native(value: Any) -> Any:
    """A copy of parsed JSON (an error body) with Decimals as floats, for a JSONField."""
    if isinstance(value, Mapping):
        return {key: json_native(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_native(item) for item in value]
    if isinstance(value, Decimal):
        # Only non-integer literals became Decimals, and float repr gives back their shortest text.
        return float(value)
    return value


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with "Z"; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("Timestamps sent to Debitura must be timezone-aware.")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_date(value: date) -> str:
    """A calendar date as Debitura's date-time fields accept it: midnight UTC."""
    # The spec types payment dates as date-time while the guide says "date only"; midnight UTC
    # satisfies the schema and keeps the calendar date on a UTC server.
    return f"{value.isoformat()}T00:00:00Z"
