"""The portal's webhook subscription: idempotent, plain http only for the local demo, made at worker start."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

import cases.management.commands.debitura_webhooks as command
from cases import signals
from cases.models import Case, WebhookSubscription
from cases.sync import case_children_refresh, cases_sync_incremental, webhooks
from debitura.client import get_client
from partnerportal.locks import LockBusy, named_lock

pytestmark = pytest.mark.django_db

LOCAL_URL = "http://127.0.0.1:8000/webhooks/debitura/"


@pytest.fixture
def debitura(monkeypatch, debitura_client, settings):
    """The command and the service talk to the in-process emulator, which poses as a local one."""
    settings.DEBITURA_BASE_URL = "http://127.0.0.1:8765"
    monkeypatch.setattr(command, "get_client", lambda: debitura_client)
    monkeypatch.setattr(webhooks, "get_client", lambda: debitura_client)
    return debitura_client


def register(url: str = LOCAL_URL) -> str:
    out = io.StringIO()
    call_command("debitura_webhooks", "register", "--url", url, stdout=out)
    return out.getvalue()


def test_register_takes_a_plain_http_portal_in_debug_against_the_local_emulator(settings, debitura, emulator):
    settings.DEBUG = True

    output = register()

    hook = next(iter(emulator.state.webhooks.values()))
    assert hook.url == LOCAL_URL
    assert WebhookSubscription.objects.get(id=hook.id).secret == hook.secret
    assert "registered" in output
    assert hook.secret not in output


@pytest.mark.parametrize(
    ("debug", "base_url", "url"),
    [
        (False, "http://127.0.0.1:8765", LOCAL_URL),
        (True, "https://collectionpartner-api.debitura.com", LOCAL_URL),
        (True, "http://127.0.0.1:8765", "http://portal.agency.example/webhooks/debitura/"),
    ],
)
def test_register_refuses_plain_http_anywhere_else(settings, debitura, emulator, debug, base_url, url):
    settings.DEBUG = debug
    settings.DEBITURA_BASE_URL = base_url

    with pytest.raises(CommandError, match="only delivers to https://"):
        register(url)

    assert not emulator.state.webhooks
    assert not WebhookSubscription.objects.exists()


def test_registering_again_keeps_one_subscription_and_rekeys_one_whose_secret_is_not_here(
    settings, debitura, emulator
):
    settings.DEBUG = True
    register()
    first = WebhookSubscription.objects.get()

    assert "already registered" in register()
    WebhookSubscription.objects.all().delete()  # a new database, the same Debitura
    assert "new secret" in register()

    assert len(emulator.state.webhooks) == 1
    hook = next(iter(emulator.state.webhooks.values()))
    assert WebhookSubscription.objects.get(is_active=True).secret == hook.secret != first.secret


def test_a_restarted_emulator_gets_the_subscription_again_and_the_old_secret_retires(
    settings, debitura, emulator
):
    settings.DEBUG = True
    register()
    with emulator.state.lock:
        emulator.state.webhooks.clear()  # the emulator restarted: it knows no subscription

    assert "registered" in register()

    assert WebhookSubscription.objects.count() == 2
    assert WebhookSubscription.objects.filter(is_active=True).count() == 1


def test_a_starting_worker_registers_the_address_when_one_is_set(settings, monkeypatch):
    queued: list[str] = []
    import cases.tasks

    for name in ("sync_team", "sync_incremental", "ensure_webhook_subscription"):
        monkeypatch.setattr(getattr(cases.tasks, name), "delay", lambda name=name: queued.append(name))

    settings.DEBITURA_WEBHOOK_URL = ""
    signals.sync_on_worker_start()
    settings.DEBITURA_WEBHOOK_URL = LOCAL_URL
    signals.sync_on_worker_start()

    assert queued.count("ensure_webhook_subscription") == 1


@pytest.mark.django_db(transaction=True)
def test_a_creditor_message_at_the_emulator_reaches_the_portal_by_webhook(
    settings, live_server, emulator_server, eager_tasks, fresh_client_singleton
):
    """The demo's loop over real HTTP: register at the emulator, it delivers, the portal re-reads the case."""
    settings.DEBUG = True
    settings.DEBITURA_BASE_URL = emulator_server.url
    client = get_client()
    cases_sync_incremental(client=client)
    webhooks.webhook_subscription_ensure(url=f"{live_server.url}/webhooks/debitura/")
    case = Case.objects.filter(lifecycle="Active").first()
    case_children_refresh(case=case, client=client)
    before = Case.objects.get(id=case.id).unread_messages

    emulator_server.emulator.creditor_message(str(case.id), "Did the debtor answer?")

    assert wait_for(lambda: Case.objects.get(id=case.id).unread_messages == before + 1)


def wait_for(condition: Any, timeout: float = 20.0) -> bool:
    """Poll a condition (the delivery runs on the emulator's and the live server's threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_two_workers_starting_at_once_take_turns_so_the_secret_kept_is_debituras(
    settings, debitura, emulator, monkeypatch
):
    # Two workers asking for a new secret at once could each store theirs in the other order than
    # Debitura issued them, keeping a secret Debitura no longer signs with: the check and the
    # write run under one lock across processes, held while Debitura is asked.
    settings.DEBUG = True
    seen: list[str] = []
    list_webhooks = debitura.list_webhooks

    def while_asking() -> Any:
        def other_worker() -> None:
            try:
                with named_lock(f"webhook-subscription:{LOCAL_URL}", wait=False):
                    seen.append("got the lock")
            except LockBusy:
                seen.append("busy")
            finally:
                connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join()
        return list_webhooks()

    monkeypatch.setattr(debitura, "list_webhooks", while_asking)
    register()
    assert seen == ["busy"]


def test_a_named_lock_is_free_again_after_its_block(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with named_lock("job"):
        pass
    with named_lock("job", wait=False):
        pass
