"""System checks of the accounts app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError

from accounts.demo import DEMO_USERNAMES, user_is_demo


@register(Tags.security, deploy=True)
def demo_users_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy` warns while demo users (published passwords) are in the database."""
    try:
        users = list(get_user_model().objects.filter(username__in=DEMO_USERNAMES))
    except DatabaseError:
        return []  # not migrated yet: no users at all
    found = sorted(user.get_username() for user in users if user_is_demo(user))
    if not found:
        return []
    return [
        Warning(
            f"Demo users with their published passwords exist: {', '.join(found)}.",
            hint="They cannot sign in while DEBUG is off, but delete them (Django admin, Users) "
            "or give them new passwords (manage.py changepassword) before going live.",
            id="accounts.W001",
        )
    ]
