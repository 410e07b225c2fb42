"""A case's History tab and its CSV export."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.children import case_tabs
from cases.models import Case
from history.export import case_history_csv_rows
from history.receivers import HISTORY_TAB
from history.timeline import PAGE_SIZE, case_history_entries, case_history_page
from partnerportal.http import HtmxHttpRequest

# Who opened a case is for those who see everyone's work (supervisors, administrators).
SEES_VIEWS = "accounts.view_all_cases"
# Deep enough for any case; a page further in is a made-up link, not a reason to read more.
MAX_OFFSET = 100 * PAGE_SIZE


def _offset(value: str) -> int:
    try:
        return min(max(0, int(value)), MAX_OFFSET)
    except ValueError:
        return 0


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_history(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """The case's actions, local changes and (for supervisors) views, newest first, a page at a time."""
    case = get_object_or_404(Case.objects.select_related("assigned_to"), id=case_id)
    with_views = request.user.has_perm(SEES_VIEWS)
    page = case_history_page(case=case, with_views=with_views, offset=_offset(request.GET.get("offset", "")))
    context = {
        "case": case,
        "page": page,
        "with_views": with_views,
        "case_tabs": [tab for tab in case_tabs() if request.user.has_perm(tab.permission)],
        "current": HISTORY_TAB.name,
    }
    return render(request, "history/case_history.html", context)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
@permission_required("accounts.export_data", raise_exception=True)
def case_history_csv(request: HtmxHttpRequest, case_id: str) -> StreamingHttpResponse:
    """The whole timeline as CSV (streamed), views included for those who may see them."""
    case = get_object_or_404(Case, id=case_id)
    entries = case_history_entries(case=case, with_views=request.user.has_perm(SEES_VIEWS))
    response = StreamingHttpResponse(
        case_history_csv_rows(entries=entries), content_type="text/csv; charset=utf-8"
    )
    # Debitura's reference is letters and digits; anything else is dropped from the file name.
    reference = re.sub(r"[^A-Za-z0-9_-]", "", case.reference)[:32] or "case"
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="history-{reference}-{stamp}.csv"'
    return response
