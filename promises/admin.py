"""Promises in Django admin: read only, since every change must leave a revision and a note."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from promises.models import Promise, PromiseInstalment, PromiseRevision


class InstalmentInline(admin.TabularInline):
    model = PromiseInstalment
    extra = 0
    can_delete = False
    readonly_fields = ("position", "due_date", "amount", "paid", "status", "kept_on")


class RevisionInline(admin.TabularInline):
    model = PromiseRevision
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "by", "at", "changes", "reason", "action")


@admin.register(Promise)
class PromiseAdmin(admin.ModelAdmin):
    list_display = (
        "case",
        "amount",
        "currency",
        "first_due",
        "instalments",
        "status",
        "recorded_by",
        "created_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("case__reference", "made_by")
    inlines = (InstalmentInline, RevisionInline)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
