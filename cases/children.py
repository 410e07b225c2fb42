"""What another app adds to a case (payments, history), registered from its AppConfig.ready().

cases imports no such app: the children refresh fetches and stores the app's part of a case
through `fetch` and `store`, the live stamp counts its rows, the case page adds its context and
draws its section's template, the action panel offers its form, and the case list's bulk bar
its action on the ticked cases. An app left out of INSTALLED_APPS is simply not on the page. An
app with a page of its own about a case (its history) registers a tab: the case page links it
beside itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from cases.forms import ActionForm
    from cases.models import Case
    from debitura.client import DebituraClient


@dataclass(frozen=True)
class ChildPart:
    """One child of a case that another app owns, named as in cases.sync.CHILD_PARTS."""

    name: str
    fetch: Callable[[DebituraClient, str], Any]  # one request: the case's part at Debitura
    store: Callable[[Case, Any, datetime], None]  # replace the case's rows (inside the children transaction)
    rows: Callable[[], QuerySet[Any]]  # the child table (a `case` foreign key), counted by the live stamp
    stamp_at: str = ""  # a column whose newest value moves the live stamp too
    case_fields: tuple[str, ...] = ()  # the case's columns `store` reads besides its id
    page: Callable[[Case], dict[str, Any]] | None = None  # the case page's context for the section
    template: str = ""  # the case page's section, drawn after the portal's actions


@dataclass(frozen=True)
class PanelEntry:
    """One entry of the case page's action panel that another app owns (its form and template)."""

    name: str  # as in cases.panel.TITLES and FORM_OF_KIND
    form: Callable[[Case, dict[str, Any]], ActionForm]
    template: str
    initial: Callable[[dict[str, Any]], dict[str, Any]]  # a failed action's payload as the form's initial


@dataclass(frozen=True)
class CaseTab:
    """Another app's page about one case, linked as a tab from the case page."""

    name: str
    label: str
    url_name: str  # reversed with the case's id as its one argument
    permission: str = "accounts.view_cases"  # who sees the tab ("app.codename")


@dataclass(frozen=True)
class ListAction:
    """Another app's action on the cases ticked in the list: a button of the list's bulk bar that
    posts the ticked ids (`case`) and the list's query (`next`) to its view."""

    name: str
    label: str
    url_name: str
    permission: str = "accounts.work_cases"  # who sees the button ("app.codename")


_PARTS: dict[str, ChildPart] = {}
_PANEL: dict[str, PanelEntry] = {}
_TABS: dict[str, CaseTab] = {}
_LIST_ACTIONS: dict[str, ListAction] = {}


def child_part_register(part: ChildPart) -> None:
    """Add an app's child part; registering the same name twice is a mistake."""
    if _PARTS.get(part.name, part) != part:
        raise ValueError(f"A child part {part.name!r} is registered already.")
    _PARTS[part.name] = part


def child_parts() -> list[ChildPart]:
    """The registered child parts, in the order they were registered."""
    return list(_PARTS.values())


def child_part(name: str) -> ChildPart | None:
    return _PARTS.get(name)


def panel_entry_register(entry: PanelEntry) -> None:
    """Add an app's entry to the action panel; registering the same name twice is a mistake."""
    if _PANEL.get(entry.name, entry) != entry:
        raise ValueError(f"A panel entry {entry.name!r} is registered already.")
    _PANEL[entry.name] = entry


def panel_entry(name: str) -> PanelEntry | None:
    return _PANEL.get(name)


def case_tab_register(tab: CaseTab) -> None:
    """Add an app's tab to the case page; registering the same name twice is a mistake."""
    if _TABS.get(tab.name, tab) != tab:
        raise ValueError(f"A case tab {tab.name!r} is registered already.")
    _TABS[tab.name] = tab


def case_tabs() -> list[CaseTab]:
    """The registered tabs, in the order they were registered."""
    return list(_TABS.values())


def list_action_register(action: ListAction) -> None:
    """Add an app's action to the case list's bulk bar; registering the same name twice is a mistake."""
    if _LIST_ACTIONS.get(action.name, action) != action:
        raise ValueError(f"A list action {action.name!r} is registered already.")
    _LIST_ACTIONS[action.name] = action


def list_actions() -> list[ListAction]:
    """The registered bulk actions of the case list, in the order they were registered."""
    return list(_LIST_ACTIONS.values())
