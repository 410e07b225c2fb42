"""The bulk note's pages: the form for the cases ticked on the list (with which get the note and
which are skipped), the confirmation, and the job's page that follows it to the end."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from bulknotes.actions import CASES_MAX, bulk_note_post, bulk_note_targets
from bulknotes.forms import BulkNoteForm
from bulknotes.models import BulkNote, BulkNoteCase
from bulknotes.polling import poll_interval
from cases.actions import ActionInvalid
from cases.views_list import ticked_case_ids
from partnerportal.http import HtmxHttpRequest


def _case_ids(request: HtmxHttpRequest) -> list[str]:
    return ticked_case_ids(request, limit=CASES_MAX)


def _back(request: HtmxHttpRequest) -> tuple[str, str]:
    """The list's query the agent came from, and the list's URL with it."""
    query = QueryDict(request.POST.get("next", "")[:2000]).urlencode()
    return query, f"{reverse('cases:list')}?{query}" if query else reverse("cases:list")


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def bulk_note_new(request: HtmxHttpRequest) -> HttpResponse:
    """Post one progress note to the ticked Active cases: the form (`step` empty or "edit"), the
    confirmation ("review"), the write ("send"). Every step is a POST carrying the ticked ids."""
    ids = _case_ids(request)
    query, back = _back(request)
    if not ids:
        messages.warning(request, "Tick the cases to post a note to first.")
        return HttpResponseRedirect(back)
    step = request.POST.get("step", "")
    targets = bulk_note_targets(case_ids=ids)
    form = BulkNoteForm(request.POST) if step in ("edit", "review", "send") else BulkNoteForm()
    context: dict[str, Any] = {"form": form, "targets": targets, "next": query, "back": back}
    if step in ("review", "send") and not targets.cases:
        form.add_error(None, "None of the ticked cases is Active: there is nothing to post.")
    if step == "edit" or not form.is_bound or not form.is_valid():
        status = 400 if step in ("review", "send") else 200
        return render(request, "bulknotes/bulk_note_form.html", context, status=status)
    if step == "review":
        return render(request, "bulknotes/bulk_note_confirm.html", context)
    try:
        bulk = bulk_note_post(
            actor=request.user,
            case_ids=[str(case.pk) for case in targets.cases],
            text=form.cleaned_data["text"],
            event_date=form.cleaned_data["event_date"],
            token=form.cleaned_data["token"],
        )
    except ActionInvalid as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(None if field in ("__all__", "token") else field, errors)
        return render(request, "bulknotes/bulk_note_form.html", context, status=400)
    count = bulk.cases.count()
    messages.success(
        request,
        format_html(
            'Posting the progress note to {} case{}: <a href="{}">follow it here</a>.',
            count,
            "" if count == 1 else "s",
            reverse("bulknotes:detail", args=[bulk.pk]),
        ),
    )
    return HttpResponseRedirect(back)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def bulk_note_detail(request: HtmxHttpRequest, bulk_id: int) -> HttpResponse:
    """A bulk note's progress and each case's outcome; polled (its progress part) until final."""
    bulk = get_object_or_404(BulkNote.objects.select_related("author", "action"), pk=bulk_id)
    rows = list(
        BulkNoteCase.objects.filter(bulk_note=bulk).select_related("case").order_by("case__reference")
    )
    counts = {state: sum(row.state == state for row in rows) for state in BulkNoteCase.State.values}
    context = {
        "bulk": bulk,
        "rows": rows,
        "counts": counts,
        "poll_seconds": max(1, int(poll_interval(0).total_seconds())),
    }
    partial = bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "bulknotes/bulk_note_detail.html#progress" if partial else "bulknotes/bulk_note_detail.html"
    return render(request, template, context)
