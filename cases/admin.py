"""Django admin for the local copy: read-only mirrors of Debitura, plus sync controls."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path

from cases.models import (
    Case,
    CaseFile,
    ChatMessage,
    ExclusivityExtension,
    SyncRun,
    TeamMember,
    TimelineItem,
    ValidationItem,
    WebhookEvent,
    WebhookSubscription,
)
from cases.tasks import refresh_case, sync_full, sync_incremental
from cases.team import team_member_link
from outbox.models import OutboxAction
from partnerportal.admin import ReadOnlyAdmin, ReadOnlyInline


class TimelineInline(ReadOnlyInline):
    model = TimelineItem
    fields = ("date", "type", "title", "actor_name")


class ChatInline(ReadOnlyInline):
    model = ChatMessage
    fields = ("date_created", "role", "author_name", "message", "is_seen")


class FileInline(ReadOnlyInline):
    model = CaseFile
    fields = ("file_name", "document_type", "description", "date_created")


class ExtensionInline(ReadOnlyInline):
    model = ExclusivityExtension
    fields = ("type", "event_date", "new_end_date")


class ValidationInline(ReadOnlyInline):
    model = ValidationItem
    fields = ("resolution_area", "description")


class OutboxInline(ReadOnlyInline):
    model = OutboxAction
    fields = ("created_at", "kind", "actor", "state", "attempts", "last_error")
    fk_name = "case"


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "partner_reference",
        "debtor_name",
        "creditor_name",
        "lifecycle",
        "close_code",
        "currency",
        "gross_amount",
        "remainder",
        "assigned_to",
        "remote_updated_at",
        "synced_at",
        "gone_at",
    )
    list_filter = (
        "lifecycle",
        "close_code",
        "engagement_phase",
        "currency",
        "debtor_type",
        "is_test_case",
        "needs_info",
        ("gone_at", admin.EmptyFieldListFilter),
        # Cases whose children could not be refreshed, with Debitura's or the database's words.
        ("children_error", admin.EmptyFieldListFilter),
    )
    search_fields = (
        "reference",
        "partner_reference",
        "creditor_reference",
        "debtor_name",
        "debtor_email",
        "creditor_name",
    )
    date_hierarchy = "remote_updated_at"
    list_select_related = ("assigned_to",)
    inlines = [TimelineInline, ChatInline, FileInline, ExtensionInline, ValidationInline, OutboxInline]
    actions = ["refresh_from_debitura"]
    exclude = ("search_text",)

    @admin.action(description="Refresh selected cases from Debitura now", permissions=["sync"])
    def refresh_from_debitura(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        ids = [str(pk) for pk in queryset.values_list("id", flat=True)[:500]]
        for case_id in ids:
            refresh_case.delay(case_id)
        self.message_user(request, f"Queued a refresh of {len(ids)} cases.", messages.SUCCESS)

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cases.sync_cases")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "kind",
        "duration",
        "pages",
        "created",
        "updated",
        "unchanged",
        "gone",
        "short_error",
    )
    list_filter = ("kind", ("error", admin.EmptyFieldListFilter))
    date_hierarchy = "started_at"
    change_list_template = "admin/cases/syncrun/change_list.html"

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        if run.finished_at is None:
            return "running"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def short_error(self, run: SyncRun) -> str:
        return run.error[:80]

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.sync_now_view)
        return [path("sync-now/", view, name="cases_syncrun_sync_now"), *super().get_urls()]

    def sync_now_view(self, request: HttpRequest) -> HttpResponse:
        """Queue a sync (POST, kind=incremental|full) and return to the list of runs."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("cases.sync_cases"):
            raise PermissionDenied
        if request.POST.get("kind") == "full":
            sync_full.delay()
            self.message_user(request, "A full reconcile was queued.", messages.SUCCESS)
        else:
            sync_incremental.delay()
            self.message_user(request, "An incremental sync was queued.", messages.SUCCESS)
        return redirect("admin:cases_syncrun_changelist")


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "user", "active", "synced_at")
    list_filter = ("active",)
    search_fields = ("name", "email")
    readonly_fields = ("id", "name", "email", "active", "synced_at")
    fields = ("id", "name", "email", "active", "synced_at", "user")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: TeamMember, form: Any, change: bool) -> None:
        # Through the service, so the member's cases follow the link to "My cases" of the new user.
        moved = team_member_link(member=TeamMember.objects.get(pk=obj.pk), user=obj.user)
        if moved:
            self.message_user(request, f"{moved} case(s) of {obj.name or obj.email} moved with the link.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "event_type",
        "event_id",
        "case_id",
        "state",
        "signature_valid",
        "signature_error",
    )
    list_filter = ("state", "signature_valid", "event_type")
    search_fields = ("event_id", "case_id")
    date_hierarchy = "received_at"


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "url", "is_active", "created_at")
    # The signing secret is never shown; it is not in `fields`.
    fields = ("id", "url", "events", "is_active", "created_at")
