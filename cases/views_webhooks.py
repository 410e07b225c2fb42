"""The endpoint Debitura delivers webhooks to (no login: the signature is the credential)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases.sync.webhooks import MAX_BODY_BYTES, webhook_event_receive

log = logging.getLogger(__name__)


@csrf_exempt
@login_not_required
@require_POST
def debitura_webhook(request: HttpRequest) -> HttpResponse:
    """Store the delivery and answer at once: 202 accepted, 400 refused (bad signature or body).

    A body above MAX_BODY_BYTES is refused with 413 before it is read, and not stored.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if declared > MAX_BODY_BYTES:
        return _too_large(declared)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _too_large(len(body))
    event = webhook_event_receive(body=body, headers=dict(request.headers))
    if not event.signature_valid:
        return JsonResponse({"error": "signature refused"}, status=400)
    return JsonResponse({"received": True, "duplicate": event.state == event.State.DUPLICATE}, status=202)


def _too_large(size: int) -> HttpResponse:
    log.warning("webhook refused unread: %d bytes is above %d", size, MAX_BODY_BYTES)
    return JsonResponse({"error": "too large"}, status=413)
