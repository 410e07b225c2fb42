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
    tp: Any  # the type hint without its None
    default: Any  # what an absent optional field holds (dataclasses.MISSING when required)


@cache
def _plan(cls: type) -> tuple[_Field, ...]:
    hints = get_type_hints(cls)
    plan = []
    for field in dataclasses.fields(cls):
        source = field.metadata.get("api", camel_case(field.name))
        tp = hints[field.name]
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        plan.append(
            _Field(
                name=field.name,
                source=source,
                label=source if isinstance(source, str) else ".".join(source),
                convert=None if source == RAW else _converter(tp),
                required=field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING,
                nullable=_allows_none(tp),
                tp=_without_none(tp),
                default=default,
            )
        )
    return tuple(plan)


@cache
def _decoder(cls: type) -> Converter:
    fields = _plan(cls)

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


# --- Values without the objects -----------------------------------------------------------------

Path = tuple[str, ...]


def values(cls: type, paths: tuple[Path, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A reader of the values `decode(cls, data)` would hold at attribute `paths` (such as
    ("debtor", "name"); an absent object on the way gives its default, usually None), as a tuple.

    It checks `data` exactly as decode does, every field of every nested object in the same
    order, and raises the same DecodeError (its path without the leading type name), but builds
    no dataclass: for bulk readers such as the case sync, where making 10,000 frozen objects only
    to read their fields back cost as much as the parse. Compiled once per class and paths into
    straight-line Python.
    """
    return _values_reader(cls, tuple(tuple(path) for path in paths))


@cache
def _values_reader(cls: type, paths: tuple[Path, ...]) -> Callable[[Any], tuple[Any, ...]]:
    compiler = _ValuesCompiler(paths)
    compiler.object(cls, "data", (), ())
    unknown = [path for path in paths if path not in compiler.found]
    if unknown:
        raise ValueError(f"{cls.__name__} has no field at {unknown}.")
    body = "\n".join(compiler.lines)
    outputs = ", ".join(f"o{index}" for index in range(len(paths)))
    source = f"def read(data):\n{body}\n    return ({outputs}{',' if len(paths) == 1 else ''})\n"
    namespace = dict(compiler.constants)
    exec(compile(source, f"<values of {cls.__name__}>", "exec"), namespace)  # noqa: S102
    return cast(Callable[[Any], tuple[Any, ...]], namespace["read"])


# Inline checks that accept exactly what the converters accept; anything else goes to the field's
# converter, which raises the error decode would.
_INLINE_CHECKS: dict[Any, str] = {
    str: "type({v}) is not str and not isinstance({v}, str)",
    bool: "{v} is not True and {v} is not False",
    int: "type({v}) is not int and (isinstance({v}, bool) or not isinstance({v}, int))",
    Decimal: "type({v}) is not Decimal",  # floats and ints are converted, as decode does
}


class _ValuesCompiler:
    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self.found: set[Path] = set()
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {
            "DecodeError": DecodeError,
            "Mapping": Mapping,
            "Decimal": Decimal,
            "json_text": json_text,
            "_dig": _dig,
            "_failed": _failed,
            "_located": _located,
        }

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * (depth + 1) + line)

    def convert(self, v: str, convert: str, labels: Path, depth: int) -> None:
        """Run the field's converter on `v`, its DecodeError located at the field."""
        self.emit(depth, "try:")
        self.emit(depth + 1, f"{v} = {convert}({v})")
        self.emit(depth, "except DecodeError as exc:")
        self.emit(depth + 1, f"raise _located(exc, {labels!r})")

    def selected(self, prefix: Path) -> list[tuple[int, Path]]:
        """(output index, rest of the path) for every wanted path under attribute path `prefix`."""
        size = len(prefix)
        return [(i, path[size:]) for i, path in enumerate(self.paths) if path[:size] == prefix]

    def object(self, cls: type, var: str, prefix: Path, labels: Path, depth: int = 0) -> None:
        """Check the object in `var` as decode_object(cls) would and assign the outputs under it."""
        self.emit(depth, f"if not isinstance({var}, dict) and not isinstance({var}, Mapping):")
        self.emit(
            depth + 1,
            f"raise DecodeError(f'expected an object, got {{type({var}).__name__}}.', {labels!r})",
        )
        for field in _plan(cls):
            self.field(field, var, (*prefix, field.name), (*labels, field.label), depth)

    def field(self, field: _Field, var: str, path: Path, labels: Path, depth: int) -> None:
        wanted = self.selected(path)
        whole = [index for index, rest in wanted if not rest]
        self.found.update(self.paths[index] for index in whole)
        if field.convert is None:
            for index in whole:
                self.emit(depth, f"o{index} = json_text({var})")
            return
        v = f"v{len(self.lines)}"
        if isinstance(field.source, str):
            self.emit(depth, f"{v} = {var}.get({field.source!r})")
        else:
            self.emit(depth, f"{v} = _dig({var}, {field.source!r})")
        nested = isinstance(field.tp, type) and dataclasses.is_dataclass(field.tp)
        inside = [(index, rest) for index, rest in wanted if rest] if nested else []
        # Absent: an error if required and not nullable, else the field's default.
        self.emit(depth, f"if {v} is None:")
        if field.required and not field.nullable:
            self.emit(depth + 1, f"raise DecodeError('is missing.', {labels!r})")
        else:
            absent = None if field.required else field.default
            self.emit(depth + 1, "pass")
            for index in whole:
                self.emit(depth + 1, f"o{index} = {self.constant(absent)}")
            for index, rest in inside:
                self.emit(depth + 1, f"o{index} = {self.constant(attribute(absent, rest))}")
        self.emit(depth, "else:")
        convert = self.constant(field.convert)
        if nested and not whole:
            self.object(field.tp, v, path, labels, depth + 1)
            return
        parse = _text_parser(field.tp)
        if parse is not None:
            # What the converter does, without its wrappers: parse(_text(value)), any TypeError
            # or ValueError becoming the converter's own DecodeError.
            self.emit(depth + 1, f"if {_INLINE_CHECKS[str].format(v=v)}:")
            self.emit(depth + 2, f"_failed({convert}, {v}, {labels!r})")
            self.emit(depth + 1, "try:")
            self.emit(depth + 2, f"{v} = {self.constant(parse)}({v})")
            self.emit(depth + 1, "except (TypeError, ValueError):")
            self.emit(depth + 2, f"_failed({convert}, {v}, {labels!r})")
        elif nested or field.tp not in _INLINE_CHECKS:
            # Converted by the field's own converter (lists, nested objects wanted whole, Any).
            self.convert(v, convert, labels, depth + 1)
        else:
            self.emit(depth + 1, f"if {_INLINE_CHECKS[field.tp].format(v=v)}:")
            if field.tp is Decimal:
                self.convert(v, convert, labels, depth + 2)
            else:
                self.emit(depth + 2, f"_failed({convert}, {v}, {labels!r})")
        for index in whole:
            self.emit(depth + 1, f"o{index} = {v}")
        if inside:
            raise ValueError(f"{'.'.join(path)} is read whole; it has no parts to read as well.")


def _text_parser(tp: Any) -> Converter | None:
    """For types read from JSON text (timestamps, dates, enums): the parser _scalar wraps."""
    if tp is datetime:
        return parse_datetime
    if tp is date:
        return parse_date
    if isinstance(tp, type) and issubclass(tp, Enum):
        return cast(Converter | None, getattr(tp, "parse", None))  # without one, any JSON value
    return None


def attribute(value: Any, path: Path) -> Any:
    """The attribute at `path` of a decoded object, as values() reads it (None past an absent object)."""
    for name in path:
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _located(exc: DecodeError, labels: Path) -> DecodeError:
    exc.path[0:0] = labels
    return exc


def _failed(convert: Converter, value: Any, labels: Path) -> None:
    """Raise the error the field's converter gives for `value`, where decode would give it."""
    try:
        convert(value)
    except DecodeError as exc:
        raise _located(exc, labels) from None
    raise AssertionError(f"{labels}: an inline check refused {value!r}, which the converter accepts.")


def _dig(data: Mapping[str, Any], source: tuple[str, ...]) -> Any:
    value: Any = data
    for key in source:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _allows_none(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def _without_none(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(tp) if arg is not type(None))
        return inner
    return tp


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
