"""Other apps' parts of a case (cases.children): payments is registered, and only once."""

from __future__ import annotations

import dataclasses

import pytest

from cases.children import child_part, child_part_register, panel_entry, panel_entry_register


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
