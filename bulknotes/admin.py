from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bulknotes.models import BulkNote, BulkNoteCase


class BulkNoteCaseInline(admin.TabularInline):
    model = BulkNoteCase
    fields = ("case", "state", "reason", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(BulkNote)
class BulkNoteAdmin(admin.ModelAdmin):
    """Read-only: a bulk note changes only through its outbox row and its polls."""

    list_display = ("created_at", "author", "state", "rows_total", "rows_succeeded", "rows_failed", "job_id")
    list_filter = ("state",)
    readonly_fields = [field.name for field in BulkNote._meta.fields]
    inlines = [BulkNoteCaseInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
