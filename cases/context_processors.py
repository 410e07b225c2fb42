"""Template context for the navigation: unread messages across cases, read only where shown."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cases.unread import unread_total


def unread(request: HttpRequest) -> dict[str, Any]:
    """`unread_total` (.cases, .messages): one indexed query, made only if a template reads it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("accounts.view_cases"):
        return {}
    return {"unread_total": SimpleLazyObject(unread_total)}
