"""Fixtures for the go-live check: the emulator over HTTP as DEBITURA_BASE_URL, an administrator
in the agency's team there, and relays that never reach a broker (the check relays itself)."""

from __future__ import annotations

from typing import Any

import pytest

from debitura.emulator.model import Case as EmulatorCase


@pytest.fixture
def golive_admin(administrator: Any, emulator_server: Any) -> Any:
    """An administrator whose address is in the agency's team at the emulator."""
    administrator.email = "ada.admin@agency.example"
    administrator.save(update_fields=["email"])
    emulator_server.emulator.team_member_add(email=administrator.email, name="Ada Admin")
    return administrator


@pytest.fixture
def golive_env(settings: Any, emulator_server: Any, fresh_client_singleton: None, queued_relays: Any) -> Any:
    """DEBITURA_BASE_URL is the emulator over loopback; no webhook address unless a test sets one."""
    settings.DEBITURA_BASE_URL = emulator_server.url
    settings.DEBITURA_WEBHOOK_URL = ""
    return emulator_server.emulator


def tagged(emulator: Any, tag: str) -> list[EmulatorCase]:
    """The cases the emulator holds with `tag` (as collection partner or managing partner)."""
    with emulator.state.lock:
        return [c for c in [*emulator.state.cases.values(), *emulator.state.managed.values()] if c.tag == tag]
