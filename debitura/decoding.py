"""Build the frozen result dataclasses in debitura.types from parsed JSON, by their type hints.

Field names map snake_case to Debitura's camelCase unless a field's metadata names another
source. Unknown fields are ignored (Debitura adds fields); a missing or mistyped field that the
dataclass does not allow to be None raises DecodeError.

Each result type is compiled once into a plan of per-field converters: a full sync decodes
millions of fields, and reading type hints for every one of them cost more than the HTTP.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from debitura.serialization import json_text, parse_date, parse_datetime

T = TypeVar("T")
Converter = Callable[[Any], Any]

RAW = "<raw>"
"""Metadata source that stores the whole object's JSON text instead of one field (as Debitura
sent it when the object came from serialization.loads_sourced)."""


class DecodeError(ValueError):
    """A response does not have the shape its result type needs."""

    def __init__(self, problem: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path = list(path)

    def __str__(self) -> str:
        where = ".".join(self.path)
        if not where:
            return self.problem
        return f"{where} {self.problem}" if self.problem.startswith("is ") else f"{where}: {self.problem}"


def api(source: str | tuple[str, ...], **kwargs: Any) -> Any:
    """A dataclass field read from another key, or from a nested path such as ("validation", "needsInfo")."""
    return dataclasses.field(metadata={"api": source}, **kwargs)


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """An instance of dataclass `cls` from a parsed JSON object."""
    try:
        return cast(T, _decoder(cast(type, cls))(data))
    except DecodeError as exc:
        exc.path.insert(0, where or cls.__name__)
        raise


def camel_case(name: str) -> str:
    """Debitura's name for a field: pre_legal_success_fee -> preLegalSuccessFee."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# --- Compilation --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    source: str | tuple[str, ...]
    label: str
    convert: Converter | None  # None: the whole object's JSON text (RAW)
    required: bool  # no default: a missing value is None or an error
    nullable: bool


@cache
def _decoder(cls: type) -> Converter:
    hints = get_type_hints(cls)
    plan = []
    for field in dataclasses.fields(cls):
        source = field.metadata.get("api", camel_case(field.name))
        tp = hints[field.name]
        plan.append(
            _Field(
                name=field.name,
                source=source,
                label=source if isinstance(source, str) else ".".join(source),
                convert=None if source == RAW else _converter(tp),
                required=field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING,
                nullable=_allows_none(tp),
            )
        )
    fields = tuple(plan)

    def decode_object(data: Any) -> Any:
        if not isinstance(data, dict) and not isinstance(data, Mapping):
            raise DecodeError(f"expected an object, got {type(data).__name__}.")
        kwargs: dict[str, Any] = {}
        for field in fields:
            if field.convert is None:
                kwargs[field.name] = json_text(data)
                continue
            source = field.source
            value = data.get(source) if type(source) is str else _dig(data, source)  # type: ignore[arg-type]
            if value is None:
                if field.required:
                    if not field.nullable:
                        raise DecodeError("is missing.", (field.label,))
                    kwargs[field.name] = None
                continue
            try:
                kwargs[field.name] = field.convert(value)
            except DecodeError as exc:
                exc.path.insert(0, field.label)
                raise
        return cls(**kwargs)

    return decode_object


def _dig(data: Mapping[str, Any], source: tuple[str, ...]) -> Any:
    value: Any = data
    for key in source:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _allows_none(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def _converter(tp: Any) -> Converter:
    """A function turning one JSON value into `tp`, raising DecodeError when it cannot."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(tp) if arg is not type(None))
        return _converter(inner)
    if origin is tuple:
        item = _converter(get_args(tp)[0])

        def convert_list(value: Any) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise DecodeError("expected a list.")
            items = []
            for index, entry in enumerate(value):
                try:
                    items.append(item(entry))
                except DecodeError as exc:
                    exc.path.insert(0, f"[{index}]")
                    raise
            return tuple(items)

        return convert_list
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda value: _decoder(tp)(value)
    return _checked(_scalar(tp), tp)


def _checked(convert: Converter, tp: Any) -> Converter:
    name = getattr(tp, "__name__", str(tp))

    def convert_scalar(value: Any) -> Any:
        try:
            return convert(value)
        except (TypeError, ValueError):
            raise DecodeError(f"{value!r} is not a valid {name}.") from None

    return convert_scalar


def _scalar(tp: Any) -> Converter:
    if tp is Any:
        return lambda value: value
    if isinstance(tp, type) and issubclass(tp, Enum):
        parse = getattr(tp, "parse", None)
        return (lambda value: parse(_text(value))) if parse else tp
    if tp is Decimal:
        return _decimal
    if tp is datetime:
        return lambda value: parse_datetime(_text(value))
    if tp is date:
        return lambda value: parse_date(_text(value))
    if tp is bool:
        return _bool
    if tp is int:
        return _int
    if tp is str:
        return _text
    raise TypeError(f"No decoder for {tp!r}.")


def _decimal(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, float):
        # Only hand-built dicts carry floats; repr is the shortest text that reads back the same.
        return Decimal(repr(value))
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError
    return Decimal(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value
