"""The health endpoint: the one page of the project itself (the dashboard and the sync badge
belong to their apps, dashboard and cases; the project imports no app)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from partnerportal.health import health_checks


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise; reveals no configuration."""
    checks = health_checks()
    healthy = all(check.ok for check in checks)
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.elapsed_ms} for c in checks},
    }
    return JsonResponse(body, status=200 if healthy else 503)
