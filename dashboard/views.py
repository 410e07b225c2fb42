"""The dashboard: the landing page after sign-in, for an agent or a supervisor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import ADMINISTRATOR, SUPERVISOR, role_by_capability
from cases.sync.status import children_progress
from dashboard import figures, pending
from dashboard.periods import PERIODS, period_choose
from dashboard.tasks import refresh_summaries
from partnerportal.http import HtmxHttpRequest


@require_GET
@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """An agent's own figures; a supervisor's (and an administrator's) for the whole agency.

    Everyone with a role sees the cases by lifecycle (theirs, nobody's, all). The period chooser
    is a GET form: without JavaScript it reloads the page, with htmx it swaps in the figures.
    """
    user = request.user
    period = period_choose(data=request.GET, today=timezone.localdate())
    supervisor = role_by_capability(user) in (SUPERVISOR, ADMINISTRATOR)
    context: dict[str, Any] = {
        "period": period,
        "periods": [(key, label) for key, (label, _) in PERIODS.items()],
        "supervisor": supervisor,
        "can_view": user.has_perm("accounts.view_cases"),
    }
    if context["can_view"]:
        counts = figures.lifecycle_counts_read(user=user)
        context |= {
            "lifecycles": counts,
            # The names earlier pages and tests read: every visible case, test cases left out.
            "case_count": counts.total.all,
            "test_cases": counts.test_cases,
            "refreshed": figures.summaries_refreshed(),
            "recovered": figures.recovered_read(period=period, agent=None if supervisor else user.pk),
            "tasks_due": pending.tasks_due_read(user=user),
        }
    if context["can_view"] and supervisor:
        context |= {
            "assignments": figures.assignments_read(period=period),
            "sla": figures.sla_read(period=period),
            "expiring": figures.exclusivity_read(),
            "progress": children_progress(),
            "promises": pending.promise_rates_read(period=period),
        }
    if context["can_view"] and context["refreshed"] is None and cache.add("dashboard:first-refresh", 1, 300):
        # A new installation: build the summaries now rather than at the beat's first turn.
        transaction.on_commit(refresh_summaries.delay)
    partial = bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "dashboard/dashboard.html#figures" if partial else "dashboard/dashboard.html"
    return render(request, template, context)
