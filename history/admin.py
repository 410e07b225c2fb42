"""The history in Django admin, read-only: nobody edits what happened."""

from __future__ import annotations

from django.contrib import admin

from history.models import CaseView
from history.tracked import history_tracked
from partnerportal.admin import ReadOnlyAdmin


@admin.register(CaseView)
class CaseViewAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "user", "case")
    list_select_related = ("user", "case")
    list_filter = ("user",)
    search_fields = ("case__reference", "user__username")
    date_hierarchy = "opened_at"
    raw_id_fields = ("case",)


def _history_admin(history: type) -> type[ReadOnlyAdmin]:
    kept = [f.name for f in history.tracked_fields]  # type: ignore[attr-defined]
    # The kept foreign keys (the assignee) are shown by name: joined, not one query per row.
    related = [f.name for f in history.tracked_fields if f.is_relation]  # type: ignore[attr-defined]
    return type(
        f"{history.__name__}Admin",
        (ReadOnlyAdmin,),
        {
            "list_display": ("history_date", "history_user", *kept, "history_change_reason"),
            "list_filter": ("history_type",),
            "list_select_related": ("history_user", *related),
            "date_hierarchy": "history_date",
        },
    )


for _tracked, _history in history_tracked():
    admin.site.register(_history, _history_admin(_history))
