"""Build the frozen result dataclasses in debitura.types from parsed JSON, by their type hints.

Field names map snake_case to Debitura's camelCase unless a field's metadata names another
source. Unknown fields are ignored (Debitura adds fields); a missing or mistyped field that the
dataclass does not allow to be None raises DecodeError.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from debitura.serialization import json_native, parse_date, parse_datetime

T = TypeVar("T")

RAW = "<raw>"
"""Metadata source that stores the whole object, JSON-native, instead of one field."""


class DecodeError(ValueError):
    """A response does not have the shape its result type needs."""


def api(source: str | tuple[str, ...], **kwargs: Any) -> Any:
    """A dataclass field read from another key, or from a nested path such as ("validation", "needsInfo")."""
    return dataclasses.field(metadata={"api": source}, **kwargs)


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """An instance of dataclass `cls` from a parsed JSON object."""
    where = where or cls.__name__
    if not isinstance(data, Mapping):
        raise DecodeError(f"{where}: expected an object, got {type(data).__name__}.")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        source = field.metadata.get("api", camel_case(field.name))
        if source == RAW:
            kwargs[field.name] = json_native(data)
            continue
        value = _dig(data, source)
        if value is None:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                if not _allows_none(hints[field.name]):
                    raise DecodeError(f"{where}.{_label(source)} is missing.")
                kwargs[field.name] = None
            continue
        kwargs[field.name] = _convert(hints[field.name], value, f"{where}.{_label(source)}")
    return cls(**kwargs)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def camel_case(name: str) -> str:
    """Debitura's name for a field: pre_legal_success_fee -> preLegalSuccessFee."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _label(source: str | tuple[str, ...]) -> str:
    return source if isinstance(source, str) else ".".join(source)


def _dig(data: Mapping[str, Any], source: str | tuple[str, ...]) -> Any:
    if isinstance(source, str):
        return data.get(source)
    value: Any = data
    for key in source:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _allows_none(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(tp) if arg is not type(None))
        return _convert(inner, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise DecodeError(f"{where}: expected a list.")
        item_type = get_args(tp)[0]
        return tuple(_convert(item_type, item, f"{where}[{i}]") for i, item in enumerate(value))
    try:
        return _scalar(tp, value, where)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(f"{where}: {value!r} is not a valid {getattr(tp, '__name__', tp)}.") from None


def _scalar(tp: Any, value: Any, where: str) -> Any:
    if tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(tp, value, where)
    if isinstance(tp, type) and issubclass(tp, Enum):
        parse = getattr(tp, "parse", None)
        return parse(_text(value)) if parse else tp(value)
    if tp is Decimal:
        if isinstance(value, float):
            # Only hand-built dicts carry floats; repr is the shortest text that reads back the same.
            return Decimal(repr(value))
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TypeError
        return Decimal(value)
    if tp is datetime:
        return parse_datetime(_text(value))
    if tp is date:
        return parse_date(_text(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if tp is str:
        return _text(value)
    raise DecodeError(f"{where}: no decoder for {tp!r}.")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value
