"""Receiving Debitura's webhooks: verify, store raw, answer fast, then re-fetch the case.

A delivery is only a hint that a case changed; the case is re-read from the API, which is
the truth. Deliveries are deduplicated on the envelope's id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from celery import signature
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from cases.models import WebhookEvent, WebhookSubscription
from cases.sync.children import case_refresh
from debitura.client import DebituraClient, get_client
from debitura.enums import WebhookEventType
from debitura.errors import DebituraError, TransientError
from debitura.webhooks import SIGNATURE_HEADER, SignatureError, verify
from partnerportal.locks import named_lock

log = logging.getLogger(__name__)

# Debitura's envelopes are a few hundred bytes; anything far larger is refused unread (the view).
MAX_BODY_BYTES = 64 * 1024
# Refused deliveries (anyone can post here) keep their first bytes, and only the newest of them.
REJECTED_BODY_BYTES = 1024
REJECTED_KEEP = 500
HEADER_CHARS = 500
EVENT_ID_CHARS = 200
# Retention, pruned daily by Celery beat (cases.prune_webhook_events).
KEEP_DAYS = 30
REJECTED_KEEP_DAYS = 7
PRUNE_BATCH = 1000

# Headers worth keeping for the audit; everything else (cookies, proxies' additions) is dropped.
KEPT_HEADERS = (
    SIGNATURE_HEADER,
    "X-Debitura-Event",
    "X-Debitura-Timestamp",
    "X-Debitura-Replay",
    "Content-Type",
    "User-Agent",
)


# What the portal subscribes to: all of it, each a hint that a case changed.
EVENTS = tuple(WebhookEventType)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class WebhookUrlRefused(ValueError):
    """Debitura would not, or the portal should not, deliver to this address."""


def webhook_url_check(url: str) -> None:
    """Refuse a URL Debitura should not deliver to: https only, except the emulator on this machine.

    Plain http is allowed with DEBUG on when both the portal's URL and DEBITURA_BASE_URL are on
    loopback: the demo, with the emulator delivering to the development server.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    local = settings.DEBUG and parts.hostname in _LOOPBACK
    if parts.scheme == "http" and local and urlsplit(settings.DEBITURA_BASE_URL).hostname in _LOOPBACK:
        return
    raise WebhookUrlRefused(
        "Debitura only delivers to https:// URLs (plain http:// only with DEBUG=1, to a portal on this "
        "machine, while DEBITURA_BASE_URL is the emulator on this machine)."
    )


def webhook_subscription_ensure(
    *, url: str, client: DebituraClient | None = None, test_mode: bool = False
) -> tuple[WebhookSubscription, str]:
    """Make Debitura deliver to `url` with a secret stored here; returns the subscription and what it took.

    Registers the subscription when Debitura has none for the URL; when it has one whose secret
    this portal does not hold (registered elsewhere, or the database was replaced), asks for a new
    secret; turns a disabled one back on. Safe to call at every start, from several workers at
    once: one at a time, so two workers never ask for a new secret each and keep the older one.
    """
    webhook_url_check(url)
    client = client or get_client()
    with named_lock(f"webhook-subscription:{url}"):
        return _subscription_ensure(url=url, client=client, test_mode=test_mode)


def _subscription_ensure(
    *, url: str, client: DebituraClient, test_mode: bool
) -> tuple[WebhookSubscription, str]:
    hook = next((h for h in client.list_webhooks() if h.url == url), None)
    held = hook is not None and WebhookSubscription.objects.filter(id=hook.id, is_active=True).exists()
    if hook is None:
        hook, done = client.create_webhook(url=url, events=EVENTS, test_mode=test_mode), "registered"
    elif not held:
        hook = client.update_webhook(hook.id, events=EVENTS, active=True, regenerate_secret=True)
        done = "given a new secret"
    elif not hook.is_active:
        hook, done = client.update_webhook(hook.id, active=True), "enabled again"
    else:
        done = "already registered"
    with transaction.atomic():
        # Another subscription's secret for the same URL is stale (say, an emulator that restarted).
        WebhookSubscription.objects.filter(url=url).exclude(id=hook.id).update(is_active=False)
        if hook.secret:
            subscription, _ = WebhookSubscription.objects.update_or_create(
                id=hook.id,
                defaults={"url": url, "events": list(hook.events), "secret": hook.secret, "is_active": True},
            )
        else:
            subscription = WebhookSubscription.objects.get(id=hook.id)
    log.info("webhook subscription %s for %s: %s", hook.id, url, done)
    return subscription, done


def webhook_secrets() -> list[str]:
    """Secrets a delivery may be signed with: active subscriptions', plus one from settings."""
    secrets = list(WebhookSubscription.objects.filter(is_active=True).values_list("secret", flat=True))
    if settings.DEBITURA_WEBHOOK_SECRET:
        secrets.append(settings.DEBITURA_WEBHOOK_SECRET)
    return secrets


def _verify_any(secrets: list[str], body: bytes, header: str | None, now: float) -> str:
    """'' when some secret verifies the delivery, else the reason it was refused."""
    if not secrets:
        return "No webhook subscription is registered, so no delivery can be verified."
    reason = ""
    for secret in secrets:
        try:
            verify(secret, body, header, now)
            return ""
        except SignatureError as exc:
            reason = str(exc)
    return reason


def webhook_event_receive(*, body: bytes, headers: dict[str, str], now: float | None = None) -> WebhookEvent:
    """Verify and store one delivery; queue its processing when it is valid and new.

    Nothing from the body is parsed before its signature is verified: anyone may post here.
    """
    kept = {name: _storable(headers[name][:HEADER_CHARS]) for name in KEPT_HEADERS if name in headers}
    event_type = _storable(headers.get("X-Debitura-Event", "")[:64])
    error = _verify_any(
        webhook_secrets(), body, headers.get(SIGNATURE_HEADER), time.time() if now is None else now
    )
    envelope = None if error else _envelope(body)
    if envelope is None:
        error = error or "The body is not a JSON object."
        return _rejected(body=body, headers=kept, event_type=event_type, error=error)
    data_field = envelope.get("data")
    data: dict[str, Any] = data_field if isinstance(data_field, dict) else {}
    event = WebhookEvent(
        event_id=_storable(_event_key(envelope.get("id"), body)),
        event_type=_storable(str(envelope.get("event") or event_type)[:64]),
        case_id=_uuid_or_none(data.get("caseId")),
        headers=kept,
        body=_storable(body.decode("utf-8", errors="replace")),
        signature_valid=True,
        state=WebhookEvent.State.RECEIVED,
    )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # The same event id was already accepted: keep the delivery for the audit, do nothing else.
        event.pk = None
        event.state = WebhookEvent.State.DUPLICATE
        event.save()
        return event
    # Queued by name: cases.tasks imports this module.
    transaction.on_commit(lambda: signature("cases.process_webhook", args=(event.pk,)).delay())
    return event


def _storable(text: str) -> str:
    """Text as a database keeps it: PostgreSQL refuses NUL, which only a hostile sender puts there."""
    return text.replace("\x00", "\ufffd")


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _event_key(event_id: Any, body: bytes) -> str:
    """The envelope's id as the de-duplication key; a hash of the body when it has none.

    A redelivery carries the same body, so it still meets the first one; two different events
    without an id no longer share the key "". Ids longer than the column are kept as their hash,
    so two ids that agree in their first characters stay apart.
    """
    if event_id is None or event_id == "" or isinstance(event_id, dict | list):
        return "body-sha256:" + hashlib.sha256(body).hexdigest()
    text = str(event_id)
    if len(text) <= EVENT_ID_CHARS:
        return text
    return "id-sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _rejected(*, body: bytes, headers: dict[str, str], event_type: str, error: str) -> WebhookEvent:
    """Keep a refused delivery's first bytes for the audit, and only the newest few hundred of them."""
    event = WebhookEvent.objects.create(
        event_type=event_type,
        headers=headers,
        body=_storable(body[:REJECTED_BODY_BYTES].decode("utf-8", errors="replace")),
        signature_valid=False,
        signature_error=_storable(error[:200]),
        state=WebhookEvent.State.REJECTED,
    )
    rejected = WebhookEvent.objects.filter(state=WebhookEvent.State.REJECTED)
    newest = rejected.order_by("-pk").values("pk")[REJECTED_KEEP - 1 : REJECTED_KEEP]
    rejected.filter(pk__lt=Subquery(newest)).delete()
    log.warning("webhook refused (%d bytes): %s", len(body), error)
    return event


def webhook_events_prune(*, now: datetime | None = None) -> int:
    """Delete deliveries older than the retention (refused ones sooner); returns how many went.

    Debitura retries a delivery for about 1.5 hours, so a month of ids is plenty to recognise
    a repeat. Deleted a batch at a time, so no transaction holds the table long.
    """
    now = now or timezone.now()
    old = Q(received_at__lt=now - timedelta(days=KEEP_DAYS)) | Q(
        state=WebhookEvent.State.REJECTED, received_at__lt=now - timedelta(days=REJECTED_KEEP_DAYS)
    )
    deleted = 0
    while batch := list(WebhookEvent.objects.filter(old).values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += WebhookEvent.objects.filter(pk__in=batch).delete()[0]
    if deleted:
        log.info("webhook events pruned: %d", deleted)
    return deleted


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return None


def webhook_event_process(*, event_pk: int, last_try: bool = True) -> None:
    """Re-fetch the case a stored delivery names; record the outcome on the event.

    A failure that may pass (an outage, a 429) is raised while tries are left (`last_try` False),
    the event staying received, so the task tries again instead of dropping the hint.
    """
    event = WebhookEvent.objects.filter(pk=event_pk, state=WebhookEvent.State.RECEIVED).first()
    if event is None:
        return
    try:
        if event.case_id:
            case_refresh(case_id=str(event.case_id))
    except TransientError:
        if not last_try:
            raise
        event.state, event.error = (
            WebhookEvent.State.FAILED,
            "Debitura did not answer; the next sync fetches it.",
        )
    except DebituraError as exc:
        event.state, event.error = WebhookEvent.State.FAILED, str(exc)
    else:
        event.state = WebhookEvent.State.PROCESSED
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "error", "processed_at"])
