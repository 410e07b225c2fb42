"""JSON and timestamps as Debitura writes them, without ever passing money through a float."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def loads(raw: bytes | str) -> Any:
    """Parse JSON with every non-integer number as a Decimal."""
    return json.loads(raw, parse_float=Decimal)


class SourcedObject(dict[str, Any]):
    """A parsed JSON object that keeps the exact text it was parsed from in `source`."""

    __slots__ = ("source",)
    source: str


_decimal_decoder = json.JSONDecoder(parse_float=Decimal)
_scan_value = _decimal_decoder.raw_decode
_scan_string: Any = json.decoder.scanstring  # type: ignore[attr-defined]
_space = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, index: int = 0) -> int:
    """The index of the first character from `index` on that is not JSON whitespace."""
    match = _space.match(text, index)
    return match.end() if match else index


def loads_sourced(raw: bytes | str) -> Any:
    """`loads`, where the top-level object and the objects in top-level arrays are SourcedObjects.

    A case keeps the JSON Debitura sent, to store as it came: slicing it from the body costs
    nothing, where rebuilding it from the parsed values took as long as the parse (a Python
    walk turning Decimals into floats, then an encode). Only the top level is walked here;
    every value is parsed by json's C scanner.
    """
    text = raw.decode(json.detect_encoding(raw)) if isinstance(raw, bytes | bytearray) else raw
    start = _skip_space(text)
    value: Any
    if text.startswith("{", start):
        value, end = _object_sourced(text, start)
    elif text.startswith("[", start):
        value, end = _array_sourced(text, start)
    else:
        return loads(text)
    if _skip_space(text, end) != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _sourced(text: str, start: int) -> tuple[Any, int]:
    value, end = _scan_value(text, start)
    if type(value) is dict:
        value = SourcedObject(value)
        value.source = text[start:end]
    return value, end


def _array_sourced(text: str, start: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    index = _skip_space(text, start + 1)
    if text.startswith("]", index):
        return items, index + 1
    while True:
        item, index = _sourced(text, index)
        items.append(item)
        index = _skip_space(text, index)
        if text.startswith("]", index):
            return items, index + 1
        if not text.startswith(",", index):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip_space(text, index + 1)


def _object_sourced(text: str, start: int) -> tuple[SourcedObject, int]:
    result = SourcedObject()
    index = _skip_space(text, start + 1)
    if not text.startswith("}", index):
        while True:
            if not text.startswith('"', index):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, index)
            key, index = _scan_string(text, index + 1)
            index = _skip_space(text, index)
            if not text.startswith(":", index):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
            index = _skip_space(text, index + 1)
            if text.startswith("[", index):
                result[key], index = _array_sourced(text, index)
            else:
                result[key], index = _scan_value(text, index)
            index = _skip_space(text, index)
            if text.startswith("}", index):
                break
            if not text.startswith(",", index):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
            index = _skip_space(text, index + 1)
    result.source = text[start : index + 1]
    return result, index + 1


_compact = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def json_text(value: Any) -> str:
    """The JSON text to store for parsed JSON: its source when it kept one, else compact JSON."""
    source = getattr(value, "source", None)
    return source if source is not None else _compact(json_native(value))


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
    """A copy of parsed JSON with Decimals as floats, for storing in a JSONField as it came."""
    # Exact type checks first: this walks every case of a full sync, and ABC checks are slow.
    kind = type(value)
    if kind is dict:
        return {key: json_native(item) for key, item in value.items()}
    if kind is list:
        return [json_native(item) for item in value]
    if kind is Decimal:
        # Only non-integer literals became Decimals, and float repr gives back their shortest text.
        return float(value)
    if isinstance(value, Mapping):
        return {key: json_native(item) for key, item in value.items()}
    return value


def parse_datetime(text: str) -> datetime:
    """An aware datetime from ISO 8601 text; "Z", offsets and naive stamps (taken as UTC) alike."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        # Debitura's .NET serialiser drops the offset on some UTC fields; they are all UTC.
        return parsed.replace(tzinfo=UTC)
    return parsed


def parse_date(text: str) -> date:
    """A date from "YYYY-MM-DD" or from a timestamp whose date part is meant."""
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text).date()


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
