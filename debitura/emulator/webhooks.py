"""Webhook subscriptions and the recorded events (GET /webhooks/events, replay)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from . import dto
from .errors import ApiError, bad_request
from .model import WEBHOOK_EVENTS
from .state import Delivery, State, Webhook, WebhookEvent

URL_MAX = 1024


def _local_host(host: str) -> bool:
    """Plain http is tolerated only for hosts on this machine or a private network (the demo)."""
    if (
        host in ("localhost",)
        or "." not in host
        or host.endswith((".test", ".local", ".internal", ".localhost"))
    ):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        raise bad_request(f"url: is required (an absolute URL of at most {URL_MAX} characters).")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("url: must be an absolute https URL.")
    if parts.scheme == "http" and not _local_host(parts.hostname):
        raise bad_request("url: must use https.", "HttpsRequired")
    return value


def _events(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        raise bad_request("events: at least one event name is required.")
    unknown = [e for e in value if e not in WEBHOOK_EVENTS]
    if unknown:
        raise bad_request(
            f"events: unknown event(s) {', '.join(unknown)}; use {', '.join(WEBHOOK_EVENTS)}.", "UnknownEvent"
        )
    return list(dict.fromkeys(value))


def _flag(payload: dict[str, Any], name: str) -> bool | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{name}: must be true or false.")
    return value


def create(state: State, payload: dict[str, Any]) -> Webhook:
    """A new subscription; the same URL twice is a business-rule violation (422)."""
    url, events = _url(payload.get("url")), _events(payload.get("events"))
    test_mode = bool(_flag(payload, "isTestMode"))
    if any(hook.url == url for hook in state.webhooks.values()):
        raise ApiError(
            422, "A subscription for this URL already exists; update it instead.", "DuplicateWebhook"
        )
    now = state.clock.now()
    hook = Webhook(state.ids.uuid(), url, events, True, test_mode, state.new_secret(), now, now)
    state.webhooks[hook.id] = hook
    return hook


def update(state: State, hook: Webhook, payload: dict[str, Any]) -> bool:
    """Apply the fields sent; returns whether the secret was rotated (and so is shown)."""
    if payload.get("url") is not None:
        hook.url = _url(payload["url"])
    if payload.get("events") is not None:
        hook.events = _events(payload["events"])
    active, test_mode, rotate = (
        _flag(payload, "isActive"),
        _flag(payload, "isTestMode"),
        _flag(payload, "regenerateSecret"),
    )
    if active is not None:
        hook.is_active = active
        if active:
            hook.failures, hook.disabled_reason = 0, None
    if test_mode is not None:
        hook.is_test_mode = test_mode
    if rotate:
        hook.secret = state.new_secret()
    hook.updated = state.clock.now()
    return bool(rotate)


def as_json(hook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "isActive": hook.is_active,
        "createdUtc": dto.stamp(hook.created),
        "updatedUtc": dto.stamp(hook.updated),
        "disabledReason": hook.disabled_reason,
        "secret": hook.secret if with_secret else None,
        "isTestMode": hook.is_test_mode,
    }


def event_json(event: WebhookEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "subscriptionId": event.subscription_id,
        "caseId": event.case_id,
        "eventType": event.event_type,
        "payload": event.payload,
        "createdAt": dto.stamp(event.created_at),
        "deliveredAt": dto.stamp(event.delivered_at),
        "attemptCount": event.attempt_count,
        "lastResponseCode": event.last_response_code,
        "lastError": event.last_error,
    }


def parse_since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("since: must be an ISO 8601 date-time.", "InvalidParameter") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def replay(state: State, event: WebhookEvent) -> None:
    """Queue the original payload again as a fresh delivery, marked as a replay."""
    hook = state.webhooks[event.subscription_id]
    event.attempt_count, event.delivered_at, event.last_error = 0, None, None
    state.outbox.append(
        Delivery(
            event.id, hook.id, hook.url, event.event_type, event.payload.encode(), hook.secret, replay=True
        )
    )
