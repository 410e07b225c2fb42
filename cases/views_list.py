"""Finding cases: the list with tabs, filters, search and keyset pages; saved views; reassigning;
the batch lookup by agency reference. Everything reads the local copy except the lookup's misses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.models import SavedView
from cases.children import list_actions
from cases.filters import (
    MINE,
    PAGE_SIZES,
    TABS,
    TEST_CASES,
    CaseFilterForm,
    assignable_users,
    cases_base,
    cases_count_capped,
    cases_filter,
    counts_first,
    density,
    list_state,
    tab_counts,
)
from cases.keyset import cases_page
from cases.list_rows import case_rows_mark
from cases.live import case_row_stamp, case_row_stamps, case_rows_stamp
from cases.lookup import LookupForm, cases_lookup
from cases.models import Case
from cases.reassign import cases_reassign
from cases.search import case_jump_target
from partnerportal.http import HtmxHttpRequest

# (sort key or None, header, css class, hint) in table order; the classes set the widths (list.css).
COLUMNS = [
    ("reference", "Reference", "col-reference", ""),
    ("partner_reference", "Agency ref.", "col-agency", "The agency's own reference, given on accept"),
    ("debtor", "Debtor", "col-debtor", ""),
    ("creditor", "Creditor", "col-creditor", ""),
    ("lifecycle", "Lifecycle", "col-lifecycle", "With the close code or the engagement phase"),
    ("amount", "Amount", "num col-money col-amount", "The claim's principal"),
    ("remainder", "Remainder", "num col-money", "What the debtor still owes"),
    ("created", "Created", "col-date col-created", ""),
    ("updated", "Updated", "col-date", "Last changed at Debitura"),
    ("due", "Due", "col-date col-due", "The claim's due date"),
    (None, "Exclusive", "col-date", "End of the agency's exclusive period"),
    ("assigned", "Assigned", "col-assigned", ""),
]
# How often an open list asks whether its rows changed (one query; cases.views_list.case_list_live).
LIVE_SECONDS = 5
CURSORS = ("after", "before")
SEARCH_INPUT_ID = "case-q"  # live typing comes from this input; it never jumps to a case


def _query(params: QueryDict, **changes: str | None) -> str:
    """The query string with `changes` applied; empty values and page cursors are dropped."""
    query = params.copy()
    for name in CURSORS:
        query.pop(name, None)
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    for name in [k for k, values in query.lists() if not any(values)]:
        query.pop(name)
    return query.urlencode()


def _partial(request: HtmxHttpRequest) -> bool:
    # History restores after a cache miss ask for the URL again and need the whole page.
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_list(request: HtmxHttpRequest) -> HttpResponse:
    """The case list; an htmx request gets only the results (tabs, table, pager)."""
    partial = _partial(request)
    users = [] if partial else assignable_users()
    form = CaseFilterForm(request.GET, users=users)
    form.is_valid()  # invalid fields are shown with their errors and otherwise ignored
    state = list_state(form)
    after, before = form.value("after"), form.value("before")

    search = (form.value("q") or "").strip()
    # Enter (or a shared link) on an exact Debitura or agency reference opens that case.
    jump = search and not (after or before) and request.htmx.trigger != SEARCH_INPUT_ID
    if jump and (case_id := case_jump_target(query=search)):
        url = reverse("cases:detail", args=[case_id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    def matching(**options: Any) -> QuerySet[Case]:
        base = cases_base(include_test=state.include_test)
        return cases_filter(base, form=form, state=state, user=request.user, **options)

    counts = tab_counts(user=request.user, include_test=state.include_test)
    cases, counted = matching(), None
    if counts_first(form):
        counted = cases_count_capped(cases)
    dense = density(counts=counts, state=state, counted=counted)
    if dense.tab or dense.all:
        # A common search term's matches are dense along the sort order too: read them there.
        cases = matching(search_index=not dense.all, dense=dense)
    page = cases_page(cases.select_related("assigned_to"), state=state, after=after, before=before)
    if counted:
        total, capped = counted
    elif not form.narrowed:
        total, capped = counts.get(state.tab, 0), False
    elif not page.next_cursor and not (after or before):
        total, capped = len(page.cases), False
    else:
        total, capped = cases_count_capped(cases)
    case_rows_mark(page.cases)

    params = request.GET
    context = {
        "form": form,
        "state": state,
        "page": page,
        "total": total,
        "capped": capped,
        "tabs": [
            (key, label, counts.get(key, 0), _query(params, tab=key))
            for key, label in [*((k, v[0]) for k, v in TABS.items()), (MINE, "My cases")]
        ],
        "columns": [
            (
                key,
                label,
                css,
                _query(params, sort=key if state.sort != key else f"-{key}") if key else "",
                ("descending" if state.descending else "ascending") if key and state.sort_key == key else "",
                hint,
            )
            for key, label, css, hint in COLUMNS
        ],
        "next_query": _query(params, after=page.next_cursor) if page.next_cursor else "",
        "previous_query": _query(params, before=page.previous_cursor) if page.previous_cursor else "",
        "current_query": _query(params),
        # Hidden unless asked for, as on the dashboard; the summary says how many and toggles them.
        "test_cases": counts[TEST_CASES],
        "test_query": _query(params, test=None if state.include_test else "on"),
        **_bulk_bar(request),
        "users": users,
        "partial": partial,
        "live": _live(page.cases),
    }
    template = "cases/case_list.html#results" if partial else "cases/case_list.html"
    return render(request, template, context)


def _bulk_bar(request: HtmxHttpRequest) -> dict[str, Any]:
    """What the user may do with ticked cases: reassign them, and other apps' actions
    (cases.children.ListAction); the rows have tick boxes when there is any."""
    can_reassign = request.user.has_perm("accounts.reassign_cases")
    actions = [action for action in list_actions() if request.user.has_perm(action.permission)]
    return {"can_reassign": can_reassign, "list_actions": actions, "can_pick": can_reassign or bool(actions)}


def _live(cases: Sequence[Case], ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The poller's question for the rows on screen (`ids`, by default the cases'): their ids and
    the stamp of what the cases drawn show (no query)."""
    stamps = {str(case.pk): case_row_stamp(case) for case in cases}
    ids = list(stamps) if ids is None else ids
    return {
        "ids": ",".join(uuid.UUID(case_id).hex for case_id in ids),
        "stamp": case_rows_stamp(ids, stamps),
        "seconds": LIVE_SECONDS,
    }


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_list_live(request: HtmxHttpRequest) -> HttpResponse:
    """The list's live check: 204 while the rows on screen (`ids`) show what they showed at stamp
    `v`; else those rows again, swapped out of band (ticks, filters and scroll stay), and the
    poller with their new stamp. Rows that a change moved out of the tab stay until the agent
    asks for the list again: nothing jumps away under the pointer."""
    try:
        ids = [str(uuid.UUID(hex=part)) for part in request.GET.get("ids", "").split(",") if part]
    except ValueError:
        return HttpResponseBadRequest("ids: case ids in hex, comma-separated")
    if not ids or len(ids) > max(PAGE_SIZES):
        return HttpResponseBadRequest(f"ids: 1 to {max(PAGE_SIZES)} case ids")
    if case_rows_stamp(ids, case_row_stamps(ids)) == request.GET.get("v"):
        return HttpResponse(status=204)
    # The stamp is taken from the rows as read here, so it describes exactly what is drawn.
    held = {str(case.pk): case for case in Case.objects.filter(pk__in=ids).select_related("assigned_to")}
    cases = [held[case_id] for case_id in ids if case_id in held]
    case_rows_mark(cases)
    context = {
        "cases": cases,
        "live": _live(cases, ids),
        **_bulk_bar(request),
    }
    response = render(request, "cases/_list_live.html", context)
    # The navigation's unread count listens (cases/_nav_unread.html).
    return trigger_client_event(response, "case-changed", {})


def _owner(request: HtmxHttpRequest) -> Any:
    # login_required has run: the user is a real one, not AnonymousUser.
    return request.user


# --- Saved views -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def saved_views(request: HtmxHttpRequest) -> HttpResponse:
    """The user's saved list views (GET); save the current list under a name (POST)."""
    error = ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        query = _query(QueryDict(request.POST.get("query", "")[:2000]))
        if not name:
            error = "Give the view a name."
        elif len(name) > 80:
            error = "Keep the name under 80 characters."
        elif not name.isprintable():  # NUL, line breaks: PostgreSQL refuses a NUL in text
            error = "Use letters, digits, spaces and punctuation only."
        else:
            SavedView.objects.update_or_create(user=_owner(request), name=name, defaults={"query": query})
            messages.success(request, f"Saved the view “{name}”.")
            return redirect(f"{reverse('cases:list')}?{query}")
    views = list(SavedView.objects.filter(user=_owner(request)))
    template = "cases/saved_views.html#saved_list" if _partial(request) else "cases/saved_views.html"
    context = {"views": views, "error": error, "list_url": reverse("cases:list")}
    return render(request, template, context, status=400 if error else 200)


@require_POST
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def saved_view_delete(request: HtmxHttpRequest, view_id: int) -> HttpResponse:
    """Delete one of the user's own saved views (someone else's is a 404)."""
    view = get_object_or_404(SavedView, id=view_id, user=_owner(request))
    view.delete()
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("cases:saved_views")


# --- Reassign --------------------------------------------------------------------------------


def ticked_case_ids(request: HtmxHttpRequest, *, limit: int = 500) -> list[str]:
    """The case ids of the ticked rows ("case" in the POST), the first `limit`; what is not an id
    is left out. The list's bulk bar, the inbox's reassign and the bulk note all post them."""
    ids = []
    for value in request.POST.getlist("case")[:limit]:
        try:
            ids.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return ids


@require_POST
@login_required
@permission_required("accounts.reassign_cases", raise_exception=True)
def cases_reassign_view(request: HtmxHttpRequest) -> HttpResponse:
    """Reassign the ticked cases: a confirmation page first, then the change (POST both times)."""
    ids = ticked_case_ids(request)
    back_query = _query(QueryDict(request.POST.get("next", "")[:2000]))
    back = f"{reverse('cases:list')}?{back_query}" if back_query else reverse("cases:list")
    if not ids:
        messages.warning(request, "Tick the cases to reassign first.")
        return HttpResponseRedirect(back)
    users = dict(assignable_users())
    assignee_id = request.POST.get("assignee", "")
    if assignee_id != "none" and assignee_id not in users:
        messages.error(request, "Choose who gets the cases.")
        return HttpResponseRedirect(back)
    if request.POST.get("confirm") != "yes":
        cases = list(Case.objects.filter(id__in=ids, gone_at__isnull=True).select_related("assigned_to"))
        context = {
            "cases": cases,
            "assignee_id": assignee_id,
            "assignee_name": users.get(assignee_id, "nobody"),
            "next": back_query,
        }
        return render(request, "cases/case_reassign.html", context)
    assignee = None if assignee_id == "none" else get_user_model().objects.get(pk=assignee_id)
    changed = cases_reassign(case_ids=ids, assignee=assignee, actor=request.user)
    messages.success(
        request, f"Reassigned {changed} case(s) to {users.get(assignee_id, 'nobody')} in the portal."
    )
    return HttpResponseRedirect(back)


# --- Batch lookup ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def case_lookup(request: HtmxHttpRequest) -> HttpResponse:
    """Up to 100 agency references: which cases they are, and which are unknown even at Debitura."""
    result = None
    if request.method == "POST":
        form = LookupForm(request.POST, request.FILES)
        if form.is_valid():
            # Synchronous on purpose: the agent asked and waits; the client's timeout bounds it.
            result = cases_lookup(references=form.cleaned_data["wanted"])
    else:
        form = LookupForm()
    return render(
        request,
        "cases/case_lookup.html",
        {"form": form, "result": result},
        status=400 if form.errors else 200,
    )
