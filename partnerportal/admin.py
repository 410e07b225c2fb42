"""Agency settings in Django admin: one row, no add or delete; admin's "view on site" redirect
with its ids checked; change lists whose date hierarchy takes no year beyond 9999; the
read-only admin every app's mirrors and records build on."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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


def _primary_key(model: type[models.Model], value: Any) -> Any:
    """`value` as the model's primary key, or None when no row could have it (too big, not a UUID)."""
    field = model._meta.pk
    assert field is not None
    try:
        python = field.to_python(value)
        for validator in field.validators:
            validator(python)
    except (ValidationError, ValueError, TypeError):
        return None
    return python


def view_on_site(request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
    """Django's admin/r/<type>/<id>/ redirect once both ids are ones a row could have and the
    type has a table: Django's own view answers 500 for a model without one (the permissions'
    holder), a number beyond 64 bits or an id that is no UUID."""
    type_id = _primary_key(ContentType, content_type_id)
    content_type = ContentType.objects.filter(pk=type_id).first() if type_id is not None else None
    model = content_type.model_class() if content_type else None
    if model is None or not model._meta.managed or _primary_key(model, object_id) is None:
        raise Http404("No such object.")
    return contenttype_views.shortcut(request, content_type_id, object_id)


class DateHierarchyChangeList(ChangeList):
    """Django's change list, with a date_hierarchy year, month or day no date has (year 9999, a
    number beyond 64 bits) refused as a bad filter (the list again, with ?e=1) instead of a 500:
    Django 5.2 catches only ValueError around the date and not the day after it (ticket #37357)."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


def _date_hierarchy_changelist(request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
    return DateHierarchyChangeList


def admin_date_hierarchies_guard(site: admin.AdminSite) -> None:
    """Every registered change list with a date_hierarchy, ours and other apps' (axes), uses
    DateHierarchyChangeList, unless its admin chose a change list of its own."""
    for model_admin in site._registry.values():
        if model_admin.date_hierarchy and type(model_admin).get_changelist is admin.ModelAdmin.get_changelist:
            model_admin.get_changelist = _date_hierarchy_changelist  # type: ignore[method-assign]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows nobody edits here: mirrors of Debitura (the API is the truth) and records of what
    was done (outbox rows)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
