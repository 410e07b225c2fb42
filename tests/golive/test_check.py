"""The go-live check against the emulator over HTTP: every capability through the portal's own
code, a broken one reported with Debitura's words, and nothing left behind either way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import Case, WebhookSubscription
from debitura.client import get_client
from golive.check import _test_case
from golive.models import GoLiveRun, Outcome
from golive.webhook import webhook_unreachable_reason
from outbox.models import OutboxAction
from tests.golive.conftest import tagged

SENT_ONCE = [
    "POST /managed-cases",
    "POST /cases/{id}/start",
    "POST /cases/{id}/notes",
    "POST /cases/{id}/chats",
    "PUT /cases/{id}/fees",
    "POST /cases/{id}/payments",
    "PUT /cases/{id}/payments/{paymentId}",
    "POST /cases/{id}/files",
    "POST /cases/{id}/close",
    "DELETE /test/cases",
]


def outcomes(run: GoLiveRun) -> dict[str, str]:
    return {step.capability: step.outcome for step in run.steps.all()}


def sent(emulator: Any, line: str) -> int:
    method, template = line.split(" ", 1)
    return len(
        [r for r in emulator.request_log if r.method == method and r.template == template and r.status < 300]
    )


def test_the_check_passes_against_the_emulator_and_leaves_nothing_behind(golive_env, golive_admin, capsys):
    call_command("golive_check", "--user", golive_admin.username)

    run = GoLiveRun.objects.get()
    steps = outcomes(run)
    assert run.outcome == Outcome.PASSED
    assert steps.pop("webhook") == Outcome.SKIPPED  # no DEBITURA_WEBHOOK_URL in this test
    assert set(steps.values()) == {Outcome.PASSED}, run.steps.values_list("capability", "detail")
    assert list(steps) == [
        "api_key", "create", "sync", "accept", "note", "chat", "fees", "payment", "correction",
        "upload", "decline", "close", "cleanup",
    ]  # fmt: skip
    # Each capability went to Debitura through the relay exactly once; the decline is a second close.
    assert {line: sent(golive_env, line) for line in SENT_ONCE} == {
        line: 2 if line in ("POST /managed-cases", "POST /cases/{id}/close") else 1 for line in SENT_ONCE
    }
    assert tagged(golive_env, run.tag) == []
    assert not Case.objects.filter(pk__in=run.case_ids).exists()
    assert not OutboxAction.objects.filter(case_id__in=run.case_ids).exists()
    assert "Go-live check passed" in capsys.readouterr().out


def test_a_refused_upload_fails_its_step_in_debituras_words_and_the_cases_are_still_deleted(
    golive_env, golive_admin
):
    golive_env.set_faults(refuse_rate=1, methods=["POST"], paths=["/cases/{id}/files"])

    with pytest.raises(CommandError, match="1 step"):
        call_command("golive_check", "--user", golive_admin.username)

    run = GoLiveRun.objects.get()
    upload = run.steps.get(capability="upload")
    assert run.outcome == Outcome.FAILED
    assert upload.outcome == Outcome.FAILED
    assert "refused (a fault injected by the emulator)" in upload.detail
    assert upload.answer["businessErrors"][0]["type"] == "InjectedRefusal"
    others = {name: outcome for name, outcome in outcomes(run).items() if name not in ("upload", "webhook")}
    assert set(others.values()) == {Outcome.PASSED}
    assert tagged(golive_env, run.tag) == []
    assert not Case.objects.filter(pk__in=run.case_ids).exists()


def test_a_failed_step_skips_the_steps_that_need_it_and_cleans_up(golive_env, golive_admin):
    golive_env.set_faults(refuse_rate=1, methods=["POST"], paths=["/cases/{id}/start"])

    with pytest.raises(CommandError):
        call_command("golive_check", "--user", golive_admin.username)

    run = GoLiveRun.objects.get()
    steps = outcomes(run)
    assert steps["accept"] == Outcome.FAILED
    assert {steps[name] for name in ("note", "chat", "fees", "payment", "correction", "close")} == {
        Outcome.SKIPPED
    }
    assert steps["upload"] == steps["decline"] == steps["cleanup"] == Outcome.PASSED
    assert tagged(golive_env, run.tag) == []


@pytest.mark.django_db(transaction=True)
def test_the_webhook_reaches_the_portal_and_its_signature_is_verified(
    settings, live_server, golive_env, golive_admin, eager_tasks
):
    settings.DEBUG = True  # plain http to a portal on this machine, as in the demo
    settings.DEBITURA_WEBHOOK_URL = f"{live_server.url}/webhooks/debitura/"

    call_command("golive_check", "--user", golive_admin.username, "--webhook-wait", "20")

    run = GoLiveRun.objects.get()
    webhook = run.steps.get(capability="webhook")
    assert webhook.outcome == Outcome.PASSED, webhook.detail
    assert "signature verified" in webhook.detail
    assert webhook.answer["enqueuedCount"] == 1
    # The check's own test subscription is gone again, at Debitura and here.
    assert golive_env.state.webhooks == {}
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("url", "base_url", "reason"),
    [
        ("", "https://collectionpartner-api.debitura.com", "DEBITURA_WEBHOOK_URL is not set"),
        (
            "http://127.0.0.1:8000/webhooks/debitura/",
            "https://collectionpartner-api.debitura.com",
            "cannot reach",
        ),
        (
            "https://10.0.0.5/webhooks/debitura/",
            "https://collectionpartner-api.debitura.com",
            "private network",
        ),
        (
            "https://portal.agency.example/webhooks/debitura/",
            "https://collectionpartner-api.debitura.com",
            None,
        ),
    ],
)
def test_an_address_debitura_cannot_reach_is_named_before_anything_is_fired(settings, url, base_url, reason):
    settings.DEBITURA_BASE_URL = base_url
    found = webhook_unreachable_reason(url=url, base_url=base_url)
    assert (found is None) if reason is None else (reason in (found or ""))


def test_a_run_killed_before_its_cleanup_is_cleaned_by_the_next_run(golive_env, golive_admin):
    killed = GoLiveRun.objects.create(tag="golive-killed", base_url="http://emulator.test")
    made = get_client().create_managed_case(_test_case(killed.tag, 1))
    killed.case_ids = [made.id]
    killed.save(update_fields=["case_ids"])
    GoLiveRun.objects.filter(pk=killed.pk).update(started_at=timezone.now() - timedelta(hours=2))

    call_command("golive_check", "--user", golive_admin.username)

    killed.refresh_from_db()
    assert tagged(golive_env, "golive-killed") == []
    assert killed.outcome == Outcome.FAILED
    assert killed.steps.get().label == "Clean up by tag, after the run broke off"
