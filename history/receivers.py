"""What the history app listens to: cases' signals (cases.events), and its tab on the case page."""

from __future__ import annotations

from typing import Any

from cases.children import CaseTab, case_tab_register
from cases.events import case_opened, cases_changed_locally
from history.recording import case_changes_record, case_view_record

HISTORY_TAB = CaseTab(name="history", label="History", url_name="history:case")


def _changed(sender: Any, *, changes: Any, actor: Any, reason: str = "", **kwargs: Any) -> None:
    case_changes_record(changes=changes, actor=actor, reason=reason)


def _opened(sender: Any, *, case: Any, user: Any, **kwargs: Any) -> None:
    case_view_record(case=case, user=user)


def history_receivers_connect() -> None:
    """Connect the receivers and register the History tab (idempotent)."""
    cases_changed_locally.connect(_changed, dispatch_uid="history.case_changes")
    case_opened.connect(_opened, dispatch_uid="history.case_opened")
    case_tab_register(HISTORY_TAB)
