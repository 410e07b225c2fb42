"""Promise pages: record one from the case page's action panel, and a promise's own page with its
instalments, its history of changes, and (for agents) the change and cancel forms.

Nothing here talks to Debitura: each step is a note row written by promises/actions.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases.actions import ActionInvalid
from cases.models import Case
from cases.views import KEEP_PANEL, case_page_context, case_regions
from partnerportal.http import HtmxHttpRequest
from promises.actions import promise_cancel, promise_change, promise_record
from promises.forms import PromiseCancelForm, PromiseChangeForm, PromiseRecordForm
from promises.models import Promise, PromiseInstalment


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def promise_record_view(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Record a promise: the form again with errors next to the fields, or the promise queued."""
    case = get_object_or_404(Case, id=case_id)
    form = PromiseRecordForm(request.POST, case=case)
    if form.is_valid():
        try:
            promise_record(
                case=case, actor=request.user, token=form.cleaned_data["token"], **form.promise_fields()
            )
        except ActionInvalid as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _recorded(request, case)
    if request.htmx:
        return render(request, "promises/_record_form.html", {"case": case, "form": form})
    return render(request, "cases/case_detail.html", case_page_context(request, case, bound=form), status=400)


def _recorded(request: HtmxHttpRequest, case: Case) -> HttpResponse:
    if not request.htmx:
        messages.success(request, "Promise recorded; it goes to Debitura's timeline as a note.")
        return HttpResponseRedirect(f"{reverse('cases:detail', args=[case.pk])}#case-promises")
    # A fresh form where the agent acted, and the page out of band: the promise in its section,
    # its note pending in the actions.
    fresh = render_to_string(
        "promises/_record_form.html", {"case": case, "form": PromiseRecordForm(case=case)}, request=request
    )
    return HttpResponse(fresh + case_regions(request, case.pk, panel=KEEP_PANEL, poller_oob=True))


def _promise(promise_id: int) -> Promise:
    return get_object_or_404(Promise.objects.select_related("case", "recorded_by", "action"), pk=promise_id)


def _promise_page(
    request: HtmxHttpRequest,
    promise: Promise,
    *,
    bound: PromiseChangeForm | PromiseCancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "promise": promise,
        "case": promise.case,
        "schedule": list(PromiseInstalment.objects.filter(promise=promise).order_by("position")),
        "revisions": list(promise.revisions.select_related("by", "action").order_by("-at", "-pk")),
        "grace_days": settings.PROMISE_GRACE_DAYS,
    }
    if request.user.has_perm("accounts.work_cases") and promise.can_change:
        context["change_form"] = (
            bound if isinstance(bound, PromiseChangeForm) else PromiseChangeForm(promise=promise)
        )
        context["cancel_form"] = (
            bound if isinstance(bound, PromiseCancelForm) else PromiseCancelForm(case=promise.case)
        )
    return render(request, "promises/promise_detail.html", context, status=status)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def promise_detail(request: HtmxHttpRequest, promise_id: int) -> HttpResponse:
    """One promise: its schedule and where each instalment stands, its history, change and cancel."""
    return _promise_page(request, _promise(promise_id))


def _done(request: HtmxHttpRequest, promise: Promise, text: str) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(f"{reverse('cases:detail', args=[promise.case_id])}#case-promises")


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def promise_change_view(request: HtmxHttpRequest, promise_id: int) -> HttpResponse:
    """Change a promise, with a reason; the old values stay in its history."""
    promise = _promise(promise_id)
    form = PromiseChangeForm(request.POST, promise=promise)
    if form.is_valid():
        try:
            promise_change(
                promise=promise,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                token=form.cleaned_data["token"],
                **form.promise_fields(),
            )
        except ActionInvalid as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _done(
                request, promise, "Promise changed; the change goes to Debitura's timeline as a note."
            )
    return _promise_page(request, promise, bound=form, status=400)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def promise_cancel_view(request: HtmxHttpRequest, promise_id: int) -> HttpResponse:
    """Cancel a promise, with a reason; it stays in the history as cancelled."""
    promise = _promise(promise_id)
    form = PromiseCancelForm(request.POST, case=promise.case)
    if form.is_valid():
        try:
            promise_cancel(
                promise=promise,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                token=form.cleaned_data["token"],
            )
        except ActionInvalid as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _done(
                request, promise, "Promise cancelled; the cancellation goes to Debitura's timeline as a note."
            )
    return _promise_page(request, promise, bound=form, status=400)
