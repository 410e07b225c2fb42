"""Django admin: mirrors are read-only, syncs started."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, SyncRun, WebhookSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def test_every_model_has_a_working_changelist(admin_client, synced):
    for model in ("case", "syncrun", "teammember", "webhookevent", "webhooksubscription"):
        assert admin_client.get(reverse(f"admin:cases_{model}_changelist")).status_code == 200, model
    case = Case.objects.first()
    assert admin_client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 200


def test_cases_mirror_debitura_and_cannot_be_edited_here(admin_client, synced):
    case = Case.objects.first()
    response = admin_client.post(reverse("admin:cases_case_change", args=[case.pk]), {"debtor_name": "X"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:cases_case_add")).status_code == 403


def test_the_webhook_secret_is_never_shown(admin_client):
    sub = WebhookSubscription.objects.create(
        id="3fa85f64-5717-4562-b3fc-2c963f66afa6", url="https://x.example/", secret="c2VjcmV0LXNpZ25pbmcta2V5"
    )
    html = admin_client.get(reverse("admin:cases_webhooksubscription_change", args=[sub.pk])).content.decode()
    assert "c2VjcmV0LXNpZ25pbmcta2V5" not in html


def test_sync_now_queues_a_sync_for_those_allowed(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    from cases import tasks

    queued = []
    monkeypatch.setattr(tasks.sync_incremental, "delay", lambda: queued.append("incremental"))
    monkeypatch.setattr(tasks.sync_full, "delay", lambda: queued.append("full"))
    admin_client.post(reverse("admin:cases_syncrun_sync_now"), {"kind": "incremental"})
    admin_client.post(reverse("admin:cases_syncrun_sync_now"), {"kind": "full"})
    assert queued == ["incremental", "full"]
    assert admin_client.get(reverse("admin:cases_syncrun_sync_now")).status_code == 405
    assert SyncRun.objects.count() == 0


def test_a_supervisor_cannot_start_syncs_or_open_admin(client, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("admin:cases_syncrun_sync_now"), {"kind": "full"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_payments_are_listed_read_only(admin_client, synced, sync_client):
    from cases.sync import case_children_refresh
    from payments.models import Payment

    for case in Case.objects.all()[:10]:
        case_children_refresh(case=case, client=sync_client)
    payment = Payment.objects.first()
    assert admin_client.get(reverse("admin:payments_payment_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:payments_payment_change", args=[payment.pk])).status_code == 200
    assert (
        admin_client.post(reverse("admin:payments_payment_change", args=[payment.pk]), {}).status_code == 403
    )
