"""Dates in the signed-in user's own time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SESSION_KEY = "time_zone"


def user_time_zone(user: Any) -> str:
    """The user's preferred time zone name, or "" for the portal's default."""
    from accounts.models import UserPreference

    preference = UserPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return preference or ""


def remember_time_zone(request: HttpRequest, user: Any) -> None:
    """Keep the preference in the session, so pages do not spend a query on it."""
    request.session[SESSION_KEY] = user_time_zone(user)


class TimeZoneMiddleware:
    """Activate the user's time zone for the request; the default stays settings.TIME_ZONE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if SESSION_KEY not in request.session:  # sessions from before the preference existed
                remember_time_zone(request, user)
            name = request.session.get(SESSION_KEY, "")
        try:
            if name:
                timezone.activate(zoneinfo.ZoneInfo(name))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
