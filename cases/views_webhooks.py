"""The endpoint Debitura delivers webhooks to (no login: the signature is the credential)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases.webhooks import webhook_event_receive

MAX_BODY_BYTES = 1_000_000


@csrf_exempt
@login_not_required
@require_POST
def debitura_webhook(request: HttpRequest) -> HttpResponse:
    """Store the delivery and answer at once: 202 accepted, 400 refused (bad signature or body)."""
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "too large"}, status=413)
    event = webhook_event_receive(body=request.body, headers=dict(request.headers))
    if not event.signature_valid:
        return JsonResponse({"error": "signature refused"}, status=400)
    return JsonResponse({"received": True, "duplicate": event.state == event.State.DUPLICATE}, status=202)
