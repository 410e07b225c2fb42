"""Other apps' parts of a case (cases.children): payments and the history tab, each registered once."""

from __future__ import annotations

import dataclasses

import pytest

from cases.children import (
    case_tab_register,
    case_tabs,
    child_part,
    child_part_register,
    panel_entry,
    panel_entry_register,
)


def test_payments_registers_its_child_part_and_panel_entry() -> None:
    part = child_part("payments")
    entry = panel_entry("payment")
    assert part is not None
    assert part.template == "payments/_case_payments.html"
    assert entry is not None
    assert entry.template == "payments/_record_form.html"


def test_a_second_part_or_entry_under_a_taken_name_is_refused() -> None:
    part = child_part("payments")
    entry = panel_entry("payment")
    assert part is not None
    assert entry is not None
    child_part_register(part)  # the same one again: nothing changes
    panel_entry_register(entry)
    with pytest.raises(ValueError, match="registered already"):
        child_part_register(dataclasses.replace(part, template="other.html"))
    with pytest.raises(ValueError, match="registered already"):
        panel_entry_register(dataclasses.replace(entry, template="other.html"))
    assert child_part("payments") is part


def test_the_history_app_registers_its_tab_once_and_a_second_under_its_name_is_refused() -> None:
    (tab,) = [tab for tab in case_tabs() if tab.name == "history"]
    assert (tab.label, tab.url_name) == ("History", "history:case")
    case_tab_register(tab)  # the same one again: nothing changes
    with pytest.raises(ValueError, match="registered already"):
        case_tab_register(dataclasses.replace(tab, label="Other"))
    assert case_tabs().count(tab) == 1
