"""The inbox ("My work"): the tasks due on the agent's cases and the unassigned ones, by deadline.

Agents see their own and the unassigned; whoever may see every agent's work (supervisors,
administrators) chooses whose, filters by kind and reassigns the tasks' cases (cases.reassign).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.filters import assignable_users
from cases.reassign import cases_reassign
from cases.views_list import ticked_case_ids
from partnerportal.http import HtmxHttpRequest
from worklist.digest import digest_enabled, digest_set
from worklist.inbox import EVERYONE, MINE, NOBODY, deadline_words, inbox_page
from worklist.sources import kind_choices, kind_label


def _filters(request: HtmxHttpRequest, users: dict[str, str]) -> tuple[str, str]:
    """(whose, kind) from the query string; what the user may not choose falls back to the default."""
    whose = request.GET.get("whose", MINE)
    if not request.user.has_perm("accounts.view_all_cases") or (
        whose not in (MINE, EVERYONE, NOBODY) and whose not in users
    ):
        whose = MINE
    kind = request.GET.get("kind", "")
    if kind not in dict(kind_choices()):
        kind = ""
    return whose, kind


@require_GET
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """One page of tasks in deadline order (keyset: `after`), overdue first."""
    supervising = request.user.has_perm("accounts.view_all_cases")
    users = dict(assignable_users()) if supervising else {}
    whose, kind = _filters(request, users)
    page = inbox_page(user=request.user, whose=whose, kind=kind, cursor=request.GET.get("after", "")[:100])
    now = timezone.now()
    for task in page.tasks:
        task.overdue_now = task.due_at < now  # type: ignore[attr-defined]
        task.deadline_words = deadline_words(task.due_at, now)  # type: ignore[attr-defined]
        task.kind_label = kind_label(task.kind)  # type: ignore[attr-defined]
    filters = {key: value for key, value in (("whose", whose), ("kind", kind)) if value}
    context = {
        "page": page,
        "whose": whose,
        "kind": kind,
        "kinds": kind_choices(),
        "users": list(users.items()),
        "supervising": supervising,
        "can_reassign": request.user.has_perm("accounts.reassign_cases"),
        "filter_query": urlencode(filters),
        "next_query": urlencode({**filters, "after": page.next_cursor}) if page.next_cursor else "",
        "paged": bool(request.GET.get("after")),
        "showing_others": whose != MINE,
        "digest": digest_enabled(user=request.user),
        "can_email": bool(getattr(request.user, "email", "")),
    }
    return render(request, "worklist/inbox.html", context)


@require_GET
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def nav_work(request: HtmxHttpRequest) -> HttpResponse:
    """The navigation's count of due and overdue tasks, asked again after a case changed (a task
    done on the case page leaves the count without a reload)."""
    return render(request, "worklist/_nav_work.html")


@require_POST
@login_required
@permission_required("accounts.reassign_cases", raise_exception=True)
def inbox_reassign(request: HtmxHttpRequest) -> HttpResponse:
    """Reassign the ticked tasks' cases (local to the portal, as on the case list); back to the inbox."""
    back = reverse("worklist:inbox")
    query = request.POST.get("next", "")[:500]
    if query:
        back = f"{back}?{query}"
    ids = ticked_case_ids(request)
    if not ids:
        messages.warning(request, "Tick the tasks whose cases to reassign first.")
        return HttpResponseRedirect(back)
    users = dict(assignable_users())
    assignee_id = request.POST.get("assignee", "")
    if assignee_id != "none" and assignee_id not in users:
        messages.error(request, "Choose who gets the cases.")
        return HttpResponseRedirect(back)
    assignee = None if assignee_id == "none" else get_user_model().objects.get(pk=assignee_id)
    changed = cases_reassign(case_ids=ids, assignee=assignee, actor=request.user)
    messages.success(
        request,
        f"Reassigned {changed} case{'s' if changed != 1 else ''} to {users.get(assignee_id, 'nobody')}.",
    )
    return HttpResponseRedirect(back)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def digest_toggle(request: HtmxHttpRequest) -> HttpResponse:
    """Turn the user's morning digest on or off; back to the inbox."""
    enabled = request.POST.get("digest") == "on"
    if enabled and not getattr(request.user, "email", ""):
        messages.error(request, "Your account has no e-mail address: ask an administrator to add one.")
    else:
        digest_set(user=request.user, enabled=enabled)
        messages.success(
            request,
            "You will get a morning e-mail with your due and overdue tasks."
            if enabled
            else "No more morning e-mails.",
        )
    back = reverse("worklist:inbox")
    query = request.POST.get("next", "")[:500]  # the filters the page had; only ever a query string
    return HttpResponseRedirect(f"{back}?{query}#digest" if query else f"{back}#digest")
