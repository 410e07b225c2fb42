"""The header's sync badge: what the sync runs and the first import of case details are doing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.sync import sync_status


@require_GET
@login_required
def sync_badge(request: HttpRequest) -> HttpResponse:
    """The header's sync status: synced N minutes ago, syncing, or unreachable since when and why."""
    return render(request, "partnerportal/_sync_badge.html", sync_status())
