"""Cross-cutting pages: the dashboard and the health endpoint."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from partnerportal.health import health_checks


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page after sign-in: what the local copy holds, by lifecycle."""
    from cases.counts import case_counts_and_tests
    from cases.models import Case

    # The trigger-kept count table: a few rows to read at any number of cases. Test cases are left
    # out, as in the case list, and the page says how many.
    by_lifecycle: dict[str, int] = {}
    counted, test_cases = case_counts_and_tests(include_test=False)
    for (lifecycle, _assignee), n in counted.items():
        by_lifecycle[lifecycle] = by_lifecycle.get(lifecycle, 0) + n
    counts = [{"lifecycle": k, "n": n} for k, n in sorted(by_lifecycle.items(), key=lambda kv: -kv[1])]
    labels = dict(Case._meta.get_field("lifecycle").flatchoices)
    return render(
        request,
        "partnerportal/dashboard.html",
        {
            "case_count": sum(row["n"] for row in counts),
            "test_cases": test_cases,
            "by_lifecycle": [
                {"label": labels.get(row["lifecycle"], row["lifecycle"]), "n": row["n"]} for row in counts
            ],
        },
    )


@require_GET
@login_required
def sync_badge(request: HttpRequest) -> HttpResponse:
    """The header's sync status: synced N minutes ago, syncing, or unreachable since when and why."""
    from cases.sync import sync_status

    return render(request, "partnerportal/_sync_badge.html", sync_status())


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
