from typing import Any

from django.contrib import admin

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Export jobs in Django admin: who asked for what, and how it went. Only workers make them."""

    list_display = (
        "pk", "user", "kind", "label", "state", "cases_done", "cases_total", "files_failed", "created_at",
        "expires_at",
    )  # fmt: skip
    list_filter = ("kind", "state")
    readonly_fields = [field.name for field in ExportJob._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
