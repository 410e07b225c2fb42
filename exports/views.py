"""Export pages: the case export dialog and its files, documents archives, and the job page of
anything a worker builds (an archive, a large workbook).

Supervisors and administrators only (accounts.export_data); an archive is its owner's alone.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.filters import CaseFilterForm, list_state
from cases.models import Case
from exports.archives import documents_archive_create
from exports.cases import XLSX_CONTENT_TYPE, cases_csv_lines, cases_export_queryset, cases_xlsx_file
from exports.columns import columns_chosen
from exports.forms import CaseExportForm
from exports.jobs import export_job_estimate, export_job_path, workbook_job_create
from exports.models import ExportJob, ExportSettings
from partnerportal.http import HtmxHttpRequest

# Jobs listed on the dialog: the user's most recent ones.
RECENT_JOBS = 5
POLL_SECONDS = 2
# The list's own paging does not narrow an export (nor the file format asked for); everything else
# in its query string does.
NOT_EXPORTED = ("after", "before", "size", "format")


def _list_query(raw: str) -> str:
    """The list's query string without its paging, at most 2,000 characters as saved views keep."""
    query = QueryDict(raw[:2000], mutable=True)
    for name in NOT_EXPORTED:
        query.pop(name, None)
    return query.urlencode()


def _owner(request: HtmxHttpRequest) -> Any:
    # login_required has run: the user is a real one, not AnonymousUser.
    return request.user


def _settings(request: HtmxHttpRequest) -> ExportSettings:
    found = ExportSettings.objects.filter(user=_owner(request)).first()
    return found or ExportSettings(user=_owner(request))


def _described(form: CaseFilterForm) -> list[tuple[str, str]]:
    """The list's filters and sort in words, for the dialog: (label, value)."""
    state = list_state(form)
    words: list[tuple[str, str]] = [("Tab", dict(form.fields["tab"].choices).get(state.tab, state.tab))]  # type: ignore[attr-defined]
    for name in form.NARROWING:
        value = form.value(name)
        if value in (None, "", False):
            continue
        field = form.fields[name]
        choices = dict(getattr(field, "choices", []) or [])
        words.append(
            (str(field.label or name.replace("_", " ").capitalize()), str(choices.get(value, value)))
        )
    if state.include_test:
        words.append(("Test cases", "included"))
    direction = "descending" if state.descending else "ascending"
    words.append(("Sorted by", f"{state.sort_key.replace('_', ' ')} ({direction})"))
    return words


def _in_words(query: str) -> str:
    """The list's filters for a job's title: "Tab: Active, Currency: EUR"."""
    filters = CaseFilterForm(QueryDict(query), users=[])
    filters.is_valid()
    return ", ".join(f"{label}: {value}" for label, value in _described(filters) if label != "Sorted by")


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def cases_export(request: HtmxHttpRequest) -> HttpResponse:
    """The export dialog for the list's current filters and sort: columns, format, documents."""
    query = _list_query(request.GET.urlencode())
    filters = CaseFilterForm(QueryDict(query), users=[])
    filters.is_valid()
    remembered = _settings(request)
    form = CaseExportForm(
        initial={
            "query": query,
            "file_format": remembered.file_format,
            "columns": [c.key for c in columns_chosen(remembered.case_columns)],
        }
    )
    context = {
        "form": form,
        "query": query,
        "matching": cases_export_queryset(query=query, user=request.user).order_by().count(),
        "described": _described(filters),
        "jobs": list(ExportJob.objects.filter(user=_owner(request))[:RECENT_JOBS]),
        "list_url": f"{reverse('cases:list')}?{query}" if query else reverse("cases:list"),
        "xlsx_direct_max": settings.EXPORT_XLSX_DIRECT_MAX,
    }
    return render(request, "exports/cases_export.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def cases_export_file(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The export itself: POST from the dialog (its columns and format are remembered), or GET
    with the list's query string and `format` (the remembered columns)."""
    remembered = _settings(request)
    if request.method == "POST":
        form = CaseExportForm(request.POST)
        if not form.is_valid():
            query = _list_query(request.POST.get("query", ""))
            context = {"form": form, "query": query, "matching": None, "described": [], "jobs": [],
                       "list_url": reverse("cases:list")}  # fmt: skip
            return render(request, "exports/cases_export.html", context, status=400)
        query, file_format = _list_query(form.cleaned_data["query"]), form.cleaned_data["file_format"]
        # In the file's order, with the currency an amount brings along: the dialog shows the file.
        remembered.case_columns = [column.key for column in columns_chosen(form.cleaned_data["columns"])]
        remembered.file_format = file_format
        remembered.save()
    else:
        query = _list_query(request.GET.urlencode())
        file_format = request.GET.get("format", remembered.file_format)
        if file_format not in ("csv", "xlsx"):
            file_format = "csv"
    cases = cases_export_queryset(query=query, user=request.user)
    columns = columns_chosen(remembered.case_columns)
    if file_format == "xlsx" and cases.order_by()[: settings.EXPORT_XLSX_DIRECT_MAX + 1].count() > (
        settings.EXPORT_XLSX_DIRECT_MAX
    ):
        # Too many to write within a request: a worker writes it, the job page offers it.
        job = workbook_job_create(
            user=request.user, query=query, columns=[c.key for c in columns], described=_in_words(query)
        )
        return HttpResponseRedirect(reverse("exports:job", args=[job.pk]))
    name = f"cases-{timezone.localtime():%Y-%m-%d-%H%M}.{file_format}"
    response: HttpResponse | StreamingHttpResponse
    if file_format == "xlsx":
        # Written whole to an unnamed temporary file first (a ZIP's directory comes last), then sent.
        response = FileResponse(cases_xlsx_file(cases=cases, columns=columns), content_type=XLSX_CONTENT_TYPE)
    else:
        response = StreamingHttpResponse(
            cases_csv_lines(cases=cases, columns=columns), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def documents_archive_start(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a documents archive for one case (`case`) or the list filter (`query`); its job page."""
    case_id = request.POST.get("case", "")
    if case_id:
        try:
            case_id = str(uuid.UUID(case_id))
        except ValueError as exc:  # a malformed id is as unknown as a missing one
            raise Http404("No such case.") from exc
        case = get_object_or_404(Case, pk=case_id)
        archive = documents_archive_create(user=request.user, case=case)
    else:
        query = _list_query(request.POST.get("query", ""))
        filters = CaseFilterForm(QueryDict(query), users=[])
        filters.is_valid()
        archive = documents_archive_create(user=request.user, query=query, described=_in_words(query))
    return HttpResponseRedirect(reverse("exports:job", args=[archive.pk]))


def _owned(request: HtmxHttpRequest, job_id: int) -> ExportJob:
    # Someone else's job is as absent as one that never was.
    return get_object_or_404(ExportJob.objects.select_related("case"), pk=job_id, user=_owner(request))


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def export_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """The job page: progress and an estimate, polled until ready, then the download."""
    job = _owned(request, job_id)
    context: dict[str, Any] = {
        "job": job,
        "estimate": export_job_estimate(job=job),
        "available": export_job_path(job=job) is not None,
        "poll_seconds": POLL_SECONDS,
        "back_url": (
            reverse("cases:detail", args=[job.case_id]) if job.case_id
            else f"{reverse('cases:list')}?{job.query}"
        ),
    }  # fmt: skip
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "exports/export_job.html#progress" if partial else "exports/export_job.html"
    return render(request, template, context)


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def export_job_download(request: HtmxHttpRequest, job_id: int) -> FileResponse:
    """The job's file, for its owner, until it expires."""
    job = _owned(request, job_id)
    path = export_job_path(job=job)
    if path is None:
        raise Http404("This file is not ready, or has expired.")
    day = f"{timezone.localtime(job.finished_at):%Y-%m-%d}"
    if job.is_workbook:
        name, content_type = f"cases-{day}.xlsx", XLSX_CONTENT_TYPE
    else:
        reference = job.case.reference if job.case else "cases"
        name, content_type = f"documents-{reference}-{day}.zip", "application/zip"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response
