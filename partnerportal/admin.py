"""Agency settings in Django admin: one row, no add or delete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from partnerportal.models import AgencySettings


@admin.register(AgencySettings)
class AgencySettingsAdmin(admin.ModelAdmin):
    fields = ("welcome_message_template", "partner_reference_pattern")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # There is only ever one row: go straight to it.
        settings = AgencySettings.load()
        return HttpResponseRedirect(reverse("admin:partnerportal_agencysettings_change", args=[settings.pk]))
