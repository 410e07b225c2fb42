"""The base of every API result type, and how response JSON becomes one (msgspec).

Results are frozen msgspec Structs whose snake_case fields read Debitura's camelCase keys. Keys
Debitura adds later are ignored; a missing required field or a value of the wrong type raises
DecodeError naming the field's path, which the client turns into ResponseInvalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache, partial
from operator import attrgetter, itemgetter
from typing import Any, Self, TypeVar, cast, dataclass_transform, get_args, get_type_hints

import msgspec

T = TypeVar("T")


class DecodeError(ValueError):
    """A response does not have the shape its result type needs; `path` names where."""

    def __init__(self, problem: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path = list(path)

    def __str__(self) -> str:
        where = ".".join(self.path).replace(".[", "[")
        if not where:
            return self.problem
        return f"{where} {self.problem}" if self.problem.startswith("is ") else f"{where}: {self.problem}"


class NotJson(ValueError):
    """A response body that is not JSON at all."""


class CalendarDate(date):
    """A calendar date that Debitura writes as "YYYY-MM-DD" or as a timestamp whose date is meant."""


# Subclasses inherit frozen, the renaming and the tolerance at run time, not kw_only: a subclass
# with a required field after optional ones says kw_only=True itself. Type checkers take both.
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(msgspec.field,))
class ApiStruct(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=False):
    """Base of every result type: a frozen Struct read from camelCase JSON keys."""

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """Decode parsed JSON (an error body, say); raises DecodeError on a wrong shape."""
        return convert(data, cls)

    @classmethod
    def from_json(cls, content: bytes | msgspec.Raw) -> Self:
        """Decode a JSON text; raises DecodeError on a wrong shape, NotJson on no JSON at all."""
        return decode(content, cls)

    @classmethod
    def list_from_json(cls, content: bytes | msgspec.Raw) -> tuple[Self, ...]:
        """Decode a JSON array of these."""
        return decode(content, tuple[cls, ...], at=(cls.__name__,))  # type: ignore[valid-type]


class AwareStruct(ApiStruct):
    """Base of the result types with timestamps, which are made timezone-aware as they are read.

    Only these pay for the check: a page of cases holds ten Structs per case, one with timestamps.
    """

    def __post_init__(self) -> None:
        # Debitura's .NET serialiser drops the offset on some UTC fields; they are all UTC.
        for name in _timestamp_fields(type(self)):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                msgspec.structs.force_setattr(self, name, value.replace(tzinfo=UTC))


@cache
def _timestamp_fields(cls: type) -> tuple[str, ...]:
    hints = get_type_hints(cls)
    return tuple(
        field.name
        for field in msgspec.structs.fields(cls)
        if datetime in (hints[field.name], *get_args(hints[field.name]))
    )


def _decode_hook(tp: type, value: Any) -> Any:
    if tp is CalendarDate and isinstance(value, str):
        day = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
        return CalendarDate(day.year, day.month, day.day)
    raise NotImplementedError


@cache
def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    # One decoder per type, reused: building one costs more than decoding a page.
    return msgspec.json.Decoder(tp, dec_hook=_decode_hook)


def decode(content: bytes | msgspec.Raw, tp: type[T], *, at: tuple[str, ...] = ()) -> T:
    """`content` (JSON text) decoded as `tp`; DecodeError names the path below `at` (default: the type)."""
    try:
        return cast(T, _decoder(cast(Any, tp)).decode(content))
    except msgspec.ValidationError as exc:
        raise _decode_error(exc, at or (_name(tp),)) from None
    except msgspec.DecodeError as exc:
        raise NotJson(str(exc)) from None


def convert(data: Any, tp: type[T]) -> T:
    """Parsed JSON `data` (dicts, lists, Decimals) as `tp`, checked as `decode` checks JSON text."""
    try:
        return cast(T, msgspec.convert(data, tp, dec_hook=_decode_hook))
    except msgspec.ValidationError as exc:
        raise _decode_error(exc, (_name(tp),)) from None


def _name(tp: Any) -> str:
    return str(getattr(tp, "__name__", tp))


_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_STEP = re.compile(r"\.([^.[]+)|(\[(?:\d+|\.\.\.)\])")


def _decode_error(exc: msgspec.ValidationError, root: tuple[str, ...]) -> DecodeError:
    """msgspec's "Expected `str`, got `int` - at `$.cases[3].debtor.name`" as a DecodeError at
    root.cases[3].debtor.name; a missing field ends the path ("root.cases[3].grossAmount is missing.")."""
    match = _AT.match(str(exc))
    problem, where = (match["problem"], match["path"] or "") if match else (str(exc), "")
    path = [*root, *(key or index for key, index in _STEP.findall(where))]
    missing = _MISSING.match(problem)
    if missing:
        return DecodeError("is missing.", (*path, missing["field"]))
    return DecodeError(f"{problem}.", tuple(path))


def attribute(value: Any, path: tuple[str, ...]) -> Any:
    """The attribute at `path` (such as ("debtor", "name")) of a result, None past an absent object."""
    for name in path:
        if value is None:
            return None
        value = getattr(value, name)
    return value


def attributes(paths: tuple[tuple[str, ...], ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A reader of the attributes at `paths` of a result, as a tuple (as `attribute` reads each).

    For bulk readers such as the case sync: the paths are grouped by the object they end on, so
    a case takes one attrgetter call per nested object instead of one walk per value.
    """
    return _attributes(tuple(tuple(path) for path in paths))


@cache
def _attributes(paths: tuple[tuple[str, ...], ...]) -> Callable[[Any], tuple[Any, ...]]:
    owners: dict[tuple[str, ...], list[int]] = {}  # the object a path ends on -> its paths
    for index, path in enumerate(paths):
        owners.setdefault(path[:-1], []).append(index)
    groups = []
    for owner, indexes in owners.items():
        get_owner: Callable[[Any], Any] | None = None  # None: the result itself
        if len(owner) == 1:
            get_owner = attrgetter(owner[0])
        elif owner:
            get_owner = partial(attribute, path=owner)
        leaves: Callable[[Any], tuple[Any, ...]] = attrgetter(*(paths[index][-1] for index in indexes))
        if len(indexes) == 1:
            leaves = partial(_one, leaves)  # attrgetter of one name gives the value, not a tuple
        groups.append((get_owner, leaves, (None,) * len(indexes)))
    # The groups' values come laid end to end; this puts them back in the order of `paths`.
    laid = [index for indexes in owners.values() for index in indexes]
    reorder = itemgetter(*sorted(range(len(laid)), key=laid.__getitem__))

    def read(value: Any) -> tuple[Any, ...]:
        values: tuple[Any, ...] = ()
        for get_owner, leaves, absent in groups:
            owner = value if get_owner is None else get_owner(value)
            values += absent if owner is None else leaves(owner)
        return values if len(paths) == 1 else cast(tuple[Any, ...], reorder(values))

    return read


def _one(getter: Callable[[Any], Any], value: Any) -> tuple[Any]:
    return (getter(value),)
