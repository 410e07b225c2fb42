"""Case pages: the list and the case page, read from the local copy (never from Debitura)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from cases.models import Case, OutboxAction
from cases.sync import case_children_request
from partnerportal.http import HtmxHttpRequest

PAGE_SIZE = 50


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_list(request: HtmxHttpRequest) -> HttpResponse:
    """Cases in the local copy, newest change first, with a search box over references and names."""
    query = request.GET.get("q", "").strip()
    cases = Case.objects.filter(gone_at__isnull=True, is_test_case=False).select_related("assigned_to")
    if query:
        cases = cases.filter(search_text__contains=query.lower())
    page = Paginator(cases.order_by("-remote_updated_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "cases/case_list.html#table" if request.htmx and not request.htmx.boosted else "cases/case_list.html"
    )
    return render(request, template, {"page": page, "query": query})


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_detail(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """One case: the money, the parties, what happened, and the agency's actions on their way."""
    case = get_object_or_404(Case.objects.select_related("assigned_to"), id=case_id)
    if case.first_opened_at is None:
        Case.objects.filter(id=case.id, first_opened_at__isnull=True).update(first_opened_at=timezone.now())
    refreshing = case_children_request(case=case)
    return render(
        request, "cases/case_detail.html", {"case": case, "refreshing": refreshing, **_children(case)}
    )


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_children(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """The case's children and actions; polled by the case page until a queued refresh lands."""
    case = get_object_or_404(Case, id=case_id)
    context = {"case": case, "refreshing": case.children_stale, **_children(case)}
    response = render(request, "cases/case_detail.html#children", context)
    if not case.children_stale and not context["open_actions"]:
        # Nothing more will change by itself: tell htmx to stop polling (286) with the final HTML.
        stop = HttpResponseStopPolling()
        stop.content = response.content
        return stop
    return response


def _children(case: Case) -> dict[str, object]:
    actions = list(case.actions.select_related("actor").order_by("-created_at")[:20])
    return {
        "timeline": list(case.timeline.order_by("-date", "-position")[:100]),
        "chat_messages": list(case.chat_messages.order_by("date_created")),
        "payments": list(case.payments.order_by("-date", "-id")),
        "files": list(case.files.order_by("-date_created")),
        "extensions": list(case.exclusivity_extensions.order_by("position")),
        "validation_items": list(case.validation_items.all()),
        "actions": actions,
        "open_actions": [
            a for a in actions if a.state in (OutboxAction.State.PENDING, OutboxAction.State.SENDING)
        ],
    }
