"""Pages of the cases the agency submits: "Submit case", the "Cases submitted" list and a case's
read-only page. Nothing here talks to Debitura: the submission is an outbox row written by
managed/actions.py, and what is shown is the sync's copy (managed/sync.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from cases.actions import ActionInvalid
from debitura import types
from managed.actions import managed_case_submit
from managed.forms import COMMON_CURRENCIES, ManagedCaseForm
from managed.handlers import submission_case
from managed.models import ManagedCase
from managed.rows import children_read
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest

PAGE_ROWS = 50
State = OutboxAction.State
# The list reads none of the big JSON columns.
_LIST_DEFERRED = (
    "raw",
    "timeline",
    "chats",
    "payments",
    "files",
    "submission__payload",
    "submission__response",
)


# --- The list ------------------------------------------------------------------------------------


def _cursor(row: ManagedCase) -> str:
    return f"{row.listed_at.isoformat()}_{row.pk}"


def _after(rows: QuerySet[ManagedCase], cursor: str) -> QuerySet[ManagedCase]:
    """Rows after the keyset cursor "<listed_at>_<id>" (a cursor that cannot be read starts over)."""
    stamp, _, pk = cursor.rpartition("_")
    when: datetime | None = parse_datetime(stamp)
    try:
        after_id = UUID(pk)
    except ValueError:
        return rows
    if when is None:
        return rows
    return rows.filter(Q(listed_at__lt=when) | Q(listed_at=when, id__lt=after_id))


@login_required
@permission_required("accounts.view_cases", raise_exception=True)
@require_GET
def managed_list(request: HtmxHttpRequest) -> HttpResponse:
    """Cases submitted: newest first, searchable by reference, debtor or creditor; test cases on request."""
    query = request.GET.get("q", "").strip()
    show_test = request.GET.get("test") == "1"
    rows = ManagedCase.objects.select_related("submission").defer(*_LIST_DEFERRED)
    if not show_test:
        rows = rows.filter(is_test_case=False)
    if query:
        rows = rows.filter(search_text__contains=query.lower())
    if cursor := request.GET.get("after", ""):
        rows = _after(rows, cursor)
    page = list(rows[: PAGE_ROWS + 1])
    more = len(page) > PAGE_ROWS
    page = page[:PAGE_ROWS]
    keep = {"q": query} if query else {}
    if show_test:
        keep["test"] = "1"
    context = {
        "rows": page,
        "query": query,
        "show_test": show_test,
        "keep_query": urlencode(keep),
        "next_cursor": _cursor(page[-1]) if more else "",
        "paged": bool(cursor),
    }
    template = (
        "managed/list.html#results" if request.htmx and not request.htmx.boosted else "managed/list.html"
    )
    return render(request, template, context)


# --- Submitting ----------------------------------------------------------------------------------


def _initial_from(request: HtmxHttpRequest) -> dict[str, Any]:
    """The values of a refused submission the agent corrects (?from=<id>), else none."""
    try:
        source = UUID(request.GET.get("from", ""))
    except ValueError:
        return {}
    row = ManagedCase.objects.select_related("submission").filter(pk=source, submission__isnull=False).first()
    if row is None or row.submission is None:
        return {}
    return ManagedCaseForm.initial_from(submission_case(row.submission))


@login_required
@permission_required("accounts.submit_cases", raise_exception=True)
@require_http_methods(["GET", "POST"])
def managed_submit(request: HtmxHttpRequest) -> HttpResponse:
    """Submit case: the form; a valid one is queued for Debitura and its page opens at once."""
    if request.method == "POST":
        form = ManagedCaseForm(request.POST)
        if form.is_valid():
            try:
                row = managed_case_submit(
                    actor=request.user, case=form.case(), token=form.cleaned_data["token"]
                )
            except ActionInvalid as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                return HttpResponseRedirect(reverse("managed:detail", args=[row.pk]), status=303)
    else:
        form = ManagedCaseForm(initial=_initial_from(request))
    return render(request, "managed/submit.html", {"form": form, "currencies": COMMON_CURRENCIES})


# --- A case's page -------------------------------------------------------------------------------


def _refusal(action: OutboxAction) -> list[dict[str, str]]:
    """Debitura's business errors on a refused submission, each in its own words."""
    body = action.response if isinstance(action.response, dict) else {}
    errors = body.get("businessErrors") or []
    return [
        {"message": str(e.get("message") or e.get("type") or ""), "url": str(e.get("solutionUrl") or "")}
        for e in errors
        if isinstance(e, dict)
    ]


def _status(row: ManagedCase) -> dict[str, Any]:
    """Where the submission stands, for the status box (polled while it is on its way)."""
    action = row.submission
    if action is None or (action.state == State.DONE and row.remote_id):
        return {"state": "at_debitura"}
    context: dict[str, Any] = {"state": action.state, "action": action}
    if action.state == State.FAILED:
        context["refusal"] = _refusal(action)
    return context


@login_required
@permission_required("accounts.view_cases", raise_exception=True)
@require_GET
def managed_detail(request: HtmxHttpRequest, pk: UUID) -> HttpResponse:
    """A submitted case, read-only: the submission's fate, then Debitura's copy and its children."""
    row = get_object_or_404(ManagedCase.objects.select_related("submission", "submitted_by"), pk=pk)
    status = _status(row)
    context: dict[str, Any] = {"row": row, "status": status}
    if request.htmx and not request.htmx.boosted:
        # The status box asks while the submission is on its way; once Debitura has the case,
        # the whole page is drawn again with Debitura's copy.
        if status["state"] == "at_debitura":
            return HttpResponseClientRefresh()
        return render(request, "managed/detail.html#status", context)
    context["case"] = types.Case.from_api(row.raw) if row.raw else None
    context["submitted"] = submission_case(row.submission) if row.submission else None
    for name in ("timeline", "chats", "payments", "files"):
        context[name] = children_read(row, name)
    return render(request, "managed/detail.html", context)
