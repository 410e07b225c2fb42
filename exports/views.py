"""Export pages: the case export dialog and its files, documents archives and their job pages.

Supervisors and administrators only (accounts.export_data); an archive is its owner's alone.
"""

from __future__ import annotations

import uuid
from typing import Any

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
from exports.archives import (
    documents_archive_create,
    documents_archive_estimate,
    documents_archive_path,
)
from exports.cases import XLSX_CONTENT_TYPE, cases_csv_lines, cases_export_queryset, cases_xlsx_file
from exports.columns import columns_chosen
from exports.forms import CaseExportForm
from exports.models import DocumentsArchive, ExportSettings
from partnerportal.http import HtmxHttpRequest

# Archives listed on the dialog: the user's most recent ones.
RECENT_ARCHIVES = 5
POLL_SECONDS = 2
# The list's own paging does not narrow an export; everything else in its query string does.
NOT_EXPORTED = ("after", "before", "size")


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
        "archives": list(DocumentsArchive.objects.filter(user=_owner(request))[:RECENT_ARCHIVES]),
        "list_url": f"{reverse('cases:list')}?{query}" if query else reverse("cases:list"),
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
            context = {"form": form, "query": query, "matching": None, "described": [], "archives": [],
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
        words = ", ".join(f"{label}: {value}" for label, value in _described(filters) if label != "Sorted by")
        archive = documents_archive_create(user=request.user, query=query, described=words)
    return HttpResponseRedirect(reverse("exports:documents", args=[archive.pk]))


def _owned(request: HtmxHttpRequest, archive_id: int) -> DocumentsArchive:
    # Someone else's archive is as absent as one that never was.
    return get_object_or_404(
        DocumentsArchive.objects.select_related("case"), pk=archive_id, user=request.user
    )


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def documents_archive(request: HtmxHttpRequest, archive_id: int) -> HttpResponse:
    """The archive's job page: progress and an estimate, polled until ready, then the download."""
    archive = _owned(request, archive_id)
    context: dict[str, Any] = {
        "archive": archive,
        "estimate": documents_archive_estimate(archive=archive),
        "available": documents_archive_path(archive=archive) is not None,
        "poll_seconds": POLL_SECONDS,
        "list_url": (
            reverse("cases:detail", args=[archive.case_id]) if archive.case_id
            else f"{reverse('cases:list')}?{archive.query}"
        ),
    }  # fmt: skip
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "exports/documents_archive.html#progress" if partial else "exports/documents_archive.html"
    return render(request, template, context)


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def documents_archive_download(request: HtmxHttpRequest, archive_id: int) -> FileResponse:
    """The ready archive, for its owner, until it expires."""
    archive = _owned(request, archive_id)
    path = documents_archive_path(archive=archive)
    if path is None:
        raise Http404("This archive is not ready, or has expired.")
    reference = archive.case.reference if archive.case else "cases"
    name = f"documents-{reference}-{timezone.localtime(archive.finished_at):%Y-%m-%d}.zip"
    response = FileResponse(path.open("rb"), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response
