"""Submitted cases and their sync runs in Django admin: read-only, like every mirror of Debitura.
The submission itself is an outbox row (retry and cancel live there)."""

from django.contrib import admin

from managed.models import ManagedCase, ManagedSyncRun
from partnerportal.admin import ReadOnlyAdmin


@admin.register(ManagedCase)
class ManagedCaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "debtor_name", "creditor_name", "lifecycle", "is_test_case", "listed_at")
    list_filter = ("lifecycle", "is_test_case", "currency")
    search_fields = ("reference", "creditor_reference", "debtor_name", "creditor_name", "remote_id")
    list_select_related = ("submission",)
    date_hierarchy = "listed_at"


@admin.register(ManagedSyncRun)
class ManagedSyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "pages",
        "created",
        "updated",
        "unchanged",
        "children",
        "error",
    )
