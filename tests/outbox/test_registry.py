"""The apps hand the outbox their handlers; the outbox imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from outbox.models import OutboxAction
from outbox.registry import HANDLERS, Handler, handler_register, handlers_check

OUTBOX = Path(__file__).resolve().parents[2] / "outbox"
APPS = {"accounts", "cases", "payments", "documents"}


def test_every_kind_of_action_has_a_handler_once_the_apps_are_ready():
    assert set(HANDLERS) == set(OutboxAction.Kind.values)
    assert handlers_check() == []


def test_a_kind_without_a_handler_is_named_by_the_system_check(monkeypatch):
    monkeypatch.delitem(HANDLERS, OutboxAction.Kind.CHAT)

    assert [error.id for error in handlers_check()] == ["outbox.E001"]
    assert "'chat'" in handlers_check()[0].msg


def test_a_second_handler_for_a_kind_is_refused_and_the_same_one_again_is_not():
    note = HANDLERS[OutboxAction.Kind.NOTE]
    handler_register(kind=OutboxAction.Kind.NOTE, handler=note)  # AppConfig.ready() run twice

    with pytest.raises(ImproperlyConfigured):
        handler_register(kind=OutboxAction.Kind.NOTE, handler=Handler(note.send))
    assert HANDLERS[OutboxAction.Kind.NOTE] is note


def test_the_outbox_imports_no_app():
    imported = set()
    for source in OUTBOX.rglob("*.py"):
        if "migrations" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((node.module.split(".")[0], source.name))
            elif isinstance(node, ast.Import):
                imported.update((alias.name.split(".")[0], source.name) for alias in node.names)

    assert {(top, name) for top, name in imported if top in APPS} == set()
