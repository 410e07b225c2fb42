"""Where tasks come from: each kind is a source that derives the current tasks of some cases.

`register_source(kind, label, derive)` adds one; `derive(case_ids)` returns the tasks those cases
should have now (TaskSpec), computed from the local data in a few bulk queries whatever the
number of cases. worklist.services.tasks_refresh makes the stored tasks equal to that. The
built-in sources are in worklist.builtin; another app (promises) registers its own from its
AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task as a source derives it; `key` is unique across every source (start it with the kind)."""

    kind: str
    case_id: Any
    key: str
    due_at: datetime
    visible_from: datetime
    reason: str
    url: str
    action: str


# derive(case_ids): the ids are UUIDs of live, non-test cases.
Derive = Callable[[Sequence[Any]], Iterable[TaskSpec]]


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    label: str
    derive: Derive


_SOURCES: dict[str, Source] = {}


def register_source(kind: str, label: str, derive: Derive) -> None:
    """Add (or replace, when an app's ready() runs again) the source of one kind of task."""
    _SOURCES[kind] = Source(kind, label, derive)


def sources() -> list[Source]:
    return list(_SOURCES.values())


def kind_label(kind: str) -> str:
    """The kind in words ("Reply to the creditor"); an unregistered kind as it is stored."""
    source = _SOURCES.get(kind)
    return source.label if source else kind


def kind_choices() -> list[tuple[str, str]]:
    return [(source.kind, source.label) for source in _SOURCES.values()]
