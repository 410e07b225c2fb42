"""User and role services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group

from accounts.roles import ROLES


def user_set_role(*, user: AbstractUser, role: str) -> None:
    """Give the user exactly one role (staff status follows through accounts.signals)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    user.groups.set([Group.objects.get(name=role)])


def user_create(
    *, username: str, email: str, password: str, role: str, first_name: str = "", last_name: str = ""
) -> AbstractUser:
    """Create an active user with a role."""
    user = get_user_model().objects.create_user(
        username=username, email=email, password=password, first_name=first_name, last_name=last_name
    )
    user_set_role(user=user, role=role)
    return user
