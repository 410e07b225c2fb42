"""The outbox in Django admin: who did what and what Debitura said; a failed row can be retried
and a pending one cancelled (outbox.interventions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from outbox.interventions import OutboxStateError, outbox_cancel, outbox_retry
from outbox.models import OutboxAction
from partnerportal.admin import ReadOnlyAdmin


@admin.register(OutboxAction)
class OutboxActionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "case",
        "actor",
        "state",
        "attempts",
        "next_attempt_at",
        "uncertain",
        "last_error",
    )
    list_filter = ("state", "kind", "uncertain", ("case", admin.RelatedOnlyFieldListFilter))
    search_fields = ("case__reference", "case__partner_reference", "idempotency_key", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("case", "actor")
    actions = ["retry_actions", "cancel_actions"]
    readonly_fields = [f.name for f in OutboxAction._meta.fields]

    @admin.action(description="Retry selected failed actions", permissions=["change"])
    def retry_actions(self, request: HttpRequest, queryset: QuerySet[OutboxAction]) -> None:
        self._apply(request, queryset, outbox_retry, "will be sent again")

    @admin.action(description="Cancel selected pending actions", permissions=["change"])
    def cancel_actions(self, request: HttpRequest, queryset: QuerySet[OutboxAction]) -> None:
        self._apply(request, queryset, outbox_cancel, "cancelled")

    def _apply(self, request: HttpRequest, queryset: QuerySet[OutboxAction], service: Any, done: str) -> None:
        changed, refused = 0, []
        for action in queryset:
            try:
                service(action=action, actor=request.user)
                changed += 1
            except OutboxStateError as exc:
                refused.append(f"{action.get_kind_display()} on {action.case_id}: {exc}")
        if changed:
            self.message_user(request, f"{changed} action(s) {done}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows are never edited field by field; "change" here means retry or cancel.
        return obj is None and request.user.has_perm("outbox.change_outboxaction")
