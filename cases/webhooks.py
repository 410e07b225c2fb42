"""Receiving Debitura's webhooks: verify, store raw, answer fast, then re-fetch the case.

A delivery is only a hint that a case changed; the case is re-read from the API, which is
the truth. Deliveries are deduplicated on the envelope's id.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import WebhookEvent, WebhookSubscription
from debitura.errors import DebituraError
from debitura.webhooks import SIGNATURE_HEADER, SignatureError, verify

log = logging.getLogger(__name__)

# Headers worth keeping for the audit; everything else (cookies, proxies' additions) is dropped.
KEPT_HEADERS = (
    SIGNATURE_HEADER,
    "X-Debitura-Event",
    "X-Debitura-Timestamp",
    "X-Debitura-Replay",
    "Content-Type",
    "User-Agent",
)


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
    """Verify and store one delivery; queue its processing when it is valid and new."""
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    error = _verify_any(
        webhook_secrets(), body, headers.get(SIGNATURE_HEADER), time.time() if now is None else now
    )
    envelope: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
        envelope = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        if not error:
            error = "The body is not JSON."
    data_field = envelope.get("data")
    data: dict[str, Any] = data_field if isinstance(data_field, dict) else {}
    event = WebhookEvent(
        event_id=str(envelope.get("id") or "")[:64],
        event_type=str(envelope.get("event") or headers.get("X-Debitura-Event") or "")[:64],
        case_id=_uuid_or_none(data.get("caseId")),
        headers=kept,
        body=body.decode("utf-8", errors="replace"),
        signature_valid=not error,
        signature_error=error[:200],
        state=WebhookEvent.State.REJECTED if error else WebhookEvent.State.RECEIVED,
    )
    if error:
        event.save()
        log.warning("webhook refused: %s", error)
        return event
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # The same event id was already accepted: keep the delivery for the audit, do nothing else.
        event.pk = None
        event.state = WebhookEvent.State.DUPLICATE
        event.save()
        return event
    from cases.tasks import process_webhook

    transaction.on_commit(lambda: process_webhook.delay(event.pk))
    return event


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return None


def webhook_event_process(*, event_pk: int) -> None:
    """Re-fetch the case a stored delivery names; record the outcome on the event."""
    from cases.sync import case_refresh

    event = WebhookEvent.objects.filter(pk=event_pk, state=WebhookEvent.State.RECEIVED).first()
    if event is None:
        return
    try:
        if event.case_id:
            case_refresh(case_id=str(event.case_id))
    except DebituraError as exc:
        event.state, event.error = WebhookEvent.State.FAILED, str(exc)
    else:
        event.state = WebhookEvent.State.PROCESSED
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "error", "processed_at"])
