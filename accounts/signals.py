"""Staff status follows the Administrator role (Django admin access is managed by role alone);
the time zone preference is read into the session at sign-in."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from accounts.roles import ADMINISTRATOR

User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.staff_follows_role")
def staff_follows_role(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    if reverse or action not in {"post_add", "post_remove", "post_clear"}:
        return
    is_admin = instance.is_superuser or instance.groups.filter(name=ADMINISTRATOR).exists()
    if instance.is_staff != is_admin:
        instance.is_staff = is_admin
        instance.save(update_fields=["is_staff"])


@receiver(user_logged_in, dispatch_uid="accounts.time_zone_at_login")
def time_zone_at_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Read once per sign-in; the middleware then finds it in the session.
    if request is not None and hasattr(request, "session"):
        from accounts.middleware import remember_time_zone

        remember_time_zone(request, user)
