"""Webhook deliveries at /webhooks/debitura/: verified, stored raw, deduplicated, acted on."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cases.models import Case, WebhookEvent, WebhookSubscription
from cases.sync import webhooks
from cases.sync.webhooks import MAX_BODY_BYTES, REJECTED_BODY_BYTES
from cases.tasks import process_webhook
from cases.views_webhooks import debitura_webhook
from debitura.errors import TransientError
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


def test_a_delivery_that_meets_an_outage_is_tried_again_instead_of_dropped(
    client,
    emulator,
    synced,
    subscription,
    debitura_is_emulator,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    changed = change_cases(emulator, 1)[0]
    before = Case.objects.get(id=changed).remote_updated_at
    refresh = webhooks.case_refresh
    calls: list[str] = []

    def away_twice(*, case_id: str) -> object:
        calls.append(case_id)
        if len(calls) <= 2:
            raise TransientError("Debitura did not answer (timeout).", ambiguous=False)
        return refresh(case_id=case_id)

    monkeypatch.setattr(webhooks, "case_refresh", away_twice)
    with django_capture_on_commit_callbacks():
        deliver(client, envelope(changed))
    process_webhook.apply(args=[WebhookEvent.objects.get().pk])  # retries run inline

    assert len(calls) == 3
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Case.objects.get(id=changed).remote_updated_at > before


def test_a_delivery_still_failing_after_its_last_try_is_marked_failed(subscription, synced, monkeypatch):
    def away(*, case_id: str) -> object:
        raise TransientError("Debitura did not answer (timeout).", ambiguous=False)

    monkeypatch.setattr(webhooks, "case_refresh", away)
    event = WebhookEvent.objects.create(
        event_id="evt-x", event_type="case.updated", case_id=Case.objects.first().id, body="{}"
    )
    with pytest.raises(TransientError):
        webhooks.webhook_event_process(event_pk=event.pk, last_try=False)
    assert WebhookEvent.objects.get().state == WebhookEvent.State.RECEIVED
    webhooks.webhook_event_process(event_pk=event.pk, last_try=True)
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.FAILED
    assert "next sync" in event.error


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


# --- Hostile deliveries: bounded storage, nothing parsed unsigned, ids kept apart ---------------


class CountingStream(io.BytesIO):
    """A request body that records how much of it was read."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_body_above_the_cap_is_refused_before_it_is_read_and_not_stored(subscription):
    size = MAX_BODY_BYTES + 1
    stream = CountingStream(size)
    request = RequestFactory().post(
        URL, content_type="application/json", CONTENT_LENGTH=str(size), **{"wsgi.input": stream}
    )

    response = debitura_webhook(request)

    assert response.status_code == 413
    assert stream.bytes_read == 0
    assert not WebhookEvent.objects.exists()


def test_forty_unsigned_megabyte_posts_store_nothing(client, subscription):
    body = b"x" * 1_000_000

    statuses = {client.post(URL, data=body, content_type="application/json").status_code for _ in range(40)}

    assert statuses == {413}
    assert not WebhookEvent.objects.exists()


def test_refused_deliveries_keep_only_their_first_bytes_and_only_the_newest(
    client, subscription, monkeypatch
):
    monkeypatch.setattr(webhooks, "REJECTED_KEEP", 5)
    body = b"y" * (MAX_BODY_BYTES - 10)

    for _ in range(12):
        assert client.post(URL, data=body, content_type="application/json").status_code == 400

    kept = list(WebhookEvent.objects.order_by("pk"))
    assert len(kept) == 5
    assert {len(event.body) for event in kept} == {REJECTED_BODY_BYTES}
    assert kept[-1].pk == WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first()


def test_a_deeply_nested_body_is_not_parsed_unless_signed_and_never_breaks_the_endpoint(client, subscription):
    nested = b"[" * 20_000 + b"]" * 20_000

    unsigned = client.post(URL, data=nested, content_type="application/json")
    signed = deliver(client, nested)

    assert (unsigned.status_code, signed.status_code) == (400, 400)
    errors = sorted(WebhookEvent.objects.values_list("signature_error", flat=True))
    assert errors == ["The body is not a JSON object.", "The signature header is missing."]


def test_deliveries_without_an_id_are_each_processed_and_a_redelivery_still_meets_its_first(
    client, subscription, django_capture_on_commit_callbacks
):
    def without_id(case_id: str) -> bytes:
        return json.dumps({"event": "case.updated", "data": {"caseId": case_id}}).encode()

    first, second = without_id(str(uuid.uuid4())), without_id(str(uuid.uuid4()))
    with django_capture_on_commit_callbacks() as callbacks:
        answers = [
            deliver(client, first).json(),
            deliver(client, second).json(),
            deliver(client, first).json(),
        ]

    assert [a["duplicate"] for a in answers] == [False, False, True]
    assert len(callbacks) == 2


def test_long_ids_that_agree_in_their_first_characters_stay_apart(
    client, subscription, django_capture_on_commit_callbacks
):
    case_id = str(uuid.uuid4())
    ids = ["e" * 64 + "-one", "e" * 64 + "-two", "f" * 300 + "1", "f" * 300 + "2"]

    with django_capture_on_commit_callbacks() as callbacks:
        answers = [deliver(client, envelope(case_id, event_id=event_id)).json() for event_id in ids]
        again = deliver(client, envelope(case_id, event_id=ids[-1])).json()

    assert [a["duplicate"] for a in answers] == [False] * 4
    assert again["duplicate"] is True
    assert len(callbacks) == 4


def test_old_deliveries_are_pruned_daily_refused_ones_sooner(subscription, settings):
    now = timezone.now()
    for days, state in [(40, "processed"), (10, "processed"), (10, "rejected"), (1, "rejected")]:
        WebhookEvent.objects.create(
            event_id=f"{state}-{days}", state=state, body="{}", received_at=now - timedelta(days=days)
        )

    assert webhooks.webhook_events_prune(now=now) == 2

    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == ["processed-10", "rejected-1"]
    schedule = settings.CELERY_BEAT_SCHEDULE.values()
    assert any(entry["task"] == "cases.prune_webhook_events" for entry in schedule)


def test_nul_characters_from_a_sender_are_stored_as_replacement_characters(client, subscription):
    # PostgreSQL refuses NUL in text: a body, header or id carrying one was a 500 there.
    body = b'{"id": "evt\\u0000", "x": "\x00"}'
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Debitura-Signature": "t=1,v1=\x00", "X-Debitura-Event": "case.\x00"},
    )
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert "\x00" not in event.body + event.event_type + "".join(event.headers.values())
    assert "\ufffd" in event.body

    signed = envelope(str(uuid.uuid4()), event_id="evt\x00-1")
    assert deliver(client, signed).status_code == 202
    assert WebhookEvent.objects.get(signature_valid=True).event_id == "evt\ufffd-1"
