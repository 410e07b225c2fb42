"""The go-live check in Django admin: the runs with each step's outcome, and a button that runs
the check now (administrators only: it writes test cases at the real Debitura)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from golive.check import golive_check_run
from golive.models import GoLiveRun, Outcome
from partnerportal.admin import ReadOnlyAdmin

RUN_PERMISSION = "golive.run_golive_check"


@admin.register(GoLiveRun)
class GoLiveRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "outcome_text", "summary", "duration", "base_url", "started_by")
    list_display_links = ("started_at",)
    list_filter = ("outcome",)
    date_hierarchy = "started_at"
    fields = ("outcome_text", "base_url", "tag", "started_by", "started_at", "duration", "test_cases")
    readonly_fields = ("outcome_text", "duration", "test_cases")
    change_list_template = "admin/golive/goliverun/change_list.html"
    change_form_template = "admin/golive/goliverun/change_form.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("started_by").prefetch_related("steps")

    # Only those who may run the check see its runs: they name the API and its test data.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    @admin.display(description="outcome", ordering="outcome")
    def outcome_text(self, run: GoLiveRun) -> str:
        return format_html(
            '<span class="golive-outcome golive-outcome-{}">{}</span>', run.outcome, run.get_outcome_display()
        )

    @admin.display(description="steps")
    def summary(self, run: GoLiveRun) -> str:
        steps = list(run.steps.all())
        counts = [
            f"{sum(1 for s in steps if s.outcome == outcome)} {label.lower()}"
            for outcome, label in Outcome.choices
            if outcome != Outcome.RUNNING and any(s.outcome == outcome for s in steps)
        ]
        return ", ".join(counts)

    @admin.display(description="test cases")
    def test_cases(self, run: GoLiveRun) -> str:
        return ", ".join(run.case_ids) or "none made"

    @admin.display(description="duration")
    def duration(self, run: GoLiveRun) -> str:
        seconds = run.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f} s"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        context = {**(extra_context or {}), "steps": list(run.steps.all()) if run else []}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.run_view)
        return [path("run/", view, name="golive_goliverun_run"), *super().get_urls()]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """Run the check now (POST), in this request, and show its run."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        run = golive_check_run(actor=request.user)
        if run.outcome == Outcome.PASSED:
            self.message_user(
                request, "The go-live check passed; its test cases are deleted.", messages.SUCCESS
            )
        else:
            failed = run.steps.filter(outcome=Outcome.FAILED).count()
            self.message_user(
                request, f"The go-live check failed: {failed} step(s) failed. Details below.", messages.ERROR
            )
        return HttpResponseRedirect(reverse("admin:golive_goliverun_change", args=[run.pk]))
