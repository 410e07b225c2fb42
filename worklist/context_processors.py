"""Template context for the navigation: the "My work" count, read only where a template shows it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from worklist.inbox import nav_count


def work(request: HttpRequest) -> dict[str, Any]:
    """`work_due`: due and overdue tasks (worklist.inbox.nav_count), counted at most once a request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("accounts.work_cases"):
        return {}
    return {"work_due": SimpleLazyObject(lambda: nav_count(user=user))}
