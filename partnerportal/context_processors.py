"""Template context shared by every page."""

from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's role for the header, read only if the page shows it."""
    from accounts.roles import role_by_capability

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_role": None}
    # A callable: the template calls it where the header uses it, and the permission check the
    # view made has loaded what it reads by then.
    return {"user_role": lambda: role_by_capability(user)}
