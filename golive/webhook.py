"""The check's webhook step: Debitura fires a test event at this portal, whose own intake
(cases.sync.webhooks) must receive it and verify its signature.

Debitura sends test events only to test-mode subscriptions, so the step registers one of its
own, for the portal's webhook address with `?golive=<tag>` added (another URL: the portal's
real subscription is left alone), and removes it again at Debitura and here. Whether Debitura
can reach the address at all is the first question: an address on this machine or a private
network cannot be reached from Debitura's servers, and the step says so instead of failing.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from cases.models import WebhookEvent, WebhookSubscription
from cases.sync.webhooks import WebhookUrlRefused, webhook_subscription_ensure, webhook_url_check
from debitura.client import DebituraClient
from debitura.enums import WebhookEventType
from debitura.errors import DebituraError
from golive.steps import Skip, StepFailed, StepResult

# Debitura documents that a fired event may take up to about 30 s to be delivered.
DELIVERY_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.25
EVENT = WebhookEventType.CASE_UPDATED


def _private(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: whether it resolves publicly is Debitura's to find out
    return address.is_private or address.is_loopback or address.is_link_local


def webhook_unreachable_reason(*, url: str, base_url: str) -> str | None:
    """Why Debitura at `base_url` cannot deliver to `url`, or None when it may be able to."""
    if not url:
        return "DEBITURA_WEBHOOK_URL is not set, so Debitura has no address of this portal to deliver to."
    host = urlsplit(url).hostname or ""
    debitura_host = urlsplit(base_url).hostname or ""
    if _private(host) and not _private(debitura_host):
        return f"{url} is on this machine or a private network; Debitura at {base_url} cannot reach it."
    try:
        webhook_url_check(url)
    except WebhookUrlRefused as exc:
        return str(exc)
    return None


def golive_webhook_check(
    *, case_id: str, client: DebituraClient, tag: str, wait_seconds: float = DELIVERY_WAIT_SECONDS
) -> StepResult:
    """Fire a test event for the case and wait for the portal's intake to verify it."""
    base = settings.DEBITURA_WEBHOOK_URL
    reason = webhook_unreachable_reason(url=base, base_url=client.base_url)
    if reason:
        raise Skip(reason)
    url = f"{base}{'&' if '?' in base else '?'}golive={tag}"
    subscription, _ = webhook_subscription_ensure(url=url, client=client, test_mode=True)
    try:
        fired_at = timezone.now()
        fired = client.fire_test_webhook(case_id=case_id, event=EVENT, subscription_id=str(subscription.id))
        answer = {
            "eventType": fired.event_type,
            "caseId": fired.case_id,
            "enqueuedCount": fired.enqueued_count,
        }
        if not fired.enqueued_count:
            raise StepFailed("Debitura queued no delivery for the test subscription.", answer)
        return _delivery_wait(
            case_id=case_id, url=url, fired_at=fired_at, client=client, wait=wait_seconds
        ), answer
    finally:
        _subscription_remove(subscription, client)


def _delivery_wait(*, case_id: str, url: str, fired_at: datetime, client: DebituraClient, wait: float) -> str:
    deadline = time.monotonic() + wait
    while True:
        received = WebhookEvent.objects.filter(received_at__gte=fired_at)
        valid = received.filter(case_id=case_id, signature_valid=True).first()
        if valid is not None:
            return (
                f"{valid.event_type} delivered to {url} and its signature verified by the portal "
                f"(event {valid.event_id})."
            )
        # A refused delivery's body is not read, so it names no case: any refusal since the fire.
        refused = received.filter(signature_valid=False, event_type=str(EVENT)).first()
        if refused is not None:
            raise StepFailed(f"The portal received a delivery and refused it: {refused.signature_error}")
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    raise _not_arrived(case_id=case_id, url=url, fired_at=fired_at, client=client, wait=wait)


def _not_arrived(
    *, case_id: str, url: str, fired_at: datetime, client: DebituraClient, wait: float
) -> Exception:
    """Skip when Debitura's delivery log shows it could not reach the address, else fail."""
    try:
        events = client.list_webhook_events(case_id=case_id, since=fired_at)
    except DebituraError:
        events = ()
    attempts = [e for e in events if e.attempt_count and not e.delivered_at]
    if attempts:
        last = attempts[0]
        words = last.last_error or f"HTTP {last.last_response_code}"
        return Skip(f"Debitura could not reach {url}: {words} (after {last.attempt_count} attempts).")
    return StepFailed(f"No delivery reached the portal at {url} within {wait:.0f} s.")


def _subscription_remove(subscription: WebhookSubscription, client: DebituraClient) -> None:
    try:
        client.delete_webhook(str(subscription.id))
    finally:
        WebhookSubscription.objects.filter(pk=subscription.pk).delete()
