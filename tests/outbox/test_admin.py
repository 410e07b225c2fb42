"""The outbox in Django admin: administrators see the rows, retry failed ones, cancel pending ones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case
from outbox.models import OutboxAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def test_the_outbox_has_a_working_changelist_under_its_own_app(admin_client, synced):
    assert admin_client.get(reverse("admin:outbox_outboxaction_changelist")).status_code == 200


def test_an_administrator_retries_a_failed_action_and_cancels_a_pending_one(
    admin_client, administrator, synced
):
    case = Case.objects.first()
    failed = OutboxAction.objects.create(
        kind="note",
        case=case,
        actor=administrator,
        idempotency_key="a",
        state="failed",
        payload={"description": "x"},
    )
    pending = OutboxAction.objects.create(
        kind="note", case=case, actor=administrator, idempotency_key="b", payload={"description": "y"}
    )
    url = reverse("admin:outbox_outboxaction_changelist")

    admin_client.post(url, {"action": "retry_actions", "_selected_action": [failed.pk]})
    admin_client.post(url, {"action": "cancel_actions", "_selected_action": [pending.pk]})

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.state == OutboxAction.State.PENDING
    assert pending.state == OutboxAction.State.CANCELLED


def test_retrying_a_row_that_is_not_failed_is_refused_with_a_message(admin_client, administrator, synced):
    case = Case.objects.first()
    done = OutboxAction.objects.create(
        kind="note", case=case, actor=administrator, idempotency_key="c", state="done"
    )
    response = admin_client.post(
        reverse("admin:outbox_outboxaction_changelist"),
        {"action": "retry_actions", "_selected_action": [done.pk]},
        follow=True,
    )
    done.refresh_from_db()
    assert done.state == OutboxAction.State.DONE
    assert any("note" in str(m).lower() for m in response.context["messages"])
