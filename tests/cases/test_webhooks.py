"""Webhook deliveries at /webhooks/debitura/: verified, stored raw, deduplicated, acted on."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from cases.models import Case, WebhookEvent, WebhookSubscription
from debitura.webhooks import sign
from tests.fixtures.cases import change_cases

pytestmark = pytest.mark.django_db

SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
URL = "/webhooks/debitura/"


@pytest.fixture
def subscription(db):
    return WebhookSubscription.objects.create(
        id=uuid.uuid4(),
        url="https://portal.example/webhooks/debitura/",
        events=["case.updated"],
        secret=SECRET,
    )


def envelope(case_id: str, event: str = "case.updated", event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or str(uuid.uuid4()),
            "specVersion": "1.0",
            "event": event,
            "timestamp": "2026-11-24T10:00:00Z",
            "data": {"caseId": case_id, "reference": "ABCDEFGH"},
        }
    ).encode()


def deliver(client, body: bytes, *, secret: str = SECRET, t: int | None = None, header: str | None = None):
    t = int(time.time()) if t is None else t
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={
            "X-Debitura-Signature": header if header is not None else sign(secret, body, t),
            "X-Debitura-Event": "case.updated",
        },
    )


def test_a_signed_webhook_updates_its_case_within_one_worker_cycle(
    client,
    emulator,
    synced,
    subscription,
    debitura_is_emulator,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    changed = change_cases(emulator, 1)[0]
    before = Case.objects.get(id=changed).remote_updated_at

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, envelope(changed))

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.signature_valid
    assert event.state == WebhookEvent.State.PROCESSED
    assert Case.objects.get(id=changed).remote_updated_at > before


def test_the_answer_comes_before_the_case_is_fetched(
    client, synced, subscription, django_capture_on_commit_callbacks
):
    case = Case.objects.first()

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(client, envelope(str(case.id)))

    assert response.status_code == 202
    assert len(callbacks) == 1  # the re-fetch is queued, not done in the request
    assert WebhookEvent.objects.get().state == WebhookEvent.State.RECEIVED


def test_a_tampered_body_is_refused_and_recorded(client, subscription):
    body = envelope(str(uuid.uuid4()))
    header = sign(SECRET, body, int(time.time()))

    response = deliver(client, body.replace(b"case.updated", b"case.closed"), header=header)

    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.REJECTED
    assert not event.signature_valid
    assert "does not match" in event.signature_error


def test_a_stale_delivery_is_refused_and_recorded(client, subscription):
    response = deliver(client, envelope(str(uuid.uuid4())), t=int(time.time()) - 301)

    assert response.status_code == 400
    assert "300 seconds" in WebhookEvent.objects.get().signature_error


def test_a_delivery_signed_with_another_secret_is_refused(client, subscription):
    other = base64.b64encode(b"another-secret-another-secret-12").decode()

    assert deliver(client, envelope(str(uuid.uuid4())), secret=other).status_code == 400


def test_without_any_subscription_nothing_is_accepted(client, db):
    response = deliver(client, envelope(str(uuid.uuid4())))

    assert response.status_code == 400
    assert "No webhook subscription" in WebhookEvent.objects.get().signature_error


def test_a_duplicate_delivery_is_processed_once(
    client, synced, subscription, django_capture_on_commit_callbacks
):
    case = Case.objects.first()
    body = envelope(str(case.id), event_id="evt-1")

    with django_capture_on_commit_callbacks() as callbacks:
        first = deliver(client, body)
        second = deliver(client, body)

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["duplicate"] is True
    assert len(callbacks) == 1
    states = sorted(WebhookEvent.objects.values_list("state", flat=True))
    assert states == [WebhookEvent.State.DUPLICATE, WebhookEvent.State.RECEIVED]


def test_the_webhook_endpoint_needs_no_login_or_csrf_but_only_takes_post(client, subscription):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert deliver(strict, envelope(str(uuid.uuid4()))).status_code == 202
    assert client.get(URL).status_code == 405


def test_stored_headers_leave_out_everything_but_debituras(client, subscription):
    body = envelope(str(uuid.uuid4()))
    client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Debitura-Signature": sign(SECRET, body, int(time.time())), "Cookie": "sessionid=secret"},
    )

    headers = WebhookEvent.objects.get().headers
    assert "Cookie" not in headers
    assert "X-Debitura-Signature" in headers
