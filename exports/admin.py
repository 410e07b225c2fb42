from django.contrib import admin

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Archives in Django admin: who asked for what, and how it went (read only)."""

    list_display = (
        "pk",
        "user",
        "label",
        "state",
        "cases_done",
        "cases_total",
        "files_failed",
        "created_at",
        "expires_at",
    )
    list_filter = ("state",)
    readonly_fields = [field.name for field in ExportJob._meta.fields]
