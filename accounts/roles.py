"""The portal's roles: Django groups with a fixed set of permissions each.

Viewer < Agent < Supervisor < Administrator; each role has every permission of the one before.
Administrators also get every model permission, so Django admin works for them, and staff status.
"""

from __future__ import annotations

from typing import Any

VIEWER = "Viewer"
AGENT = "Agent"
SUPERVISOR = "Supervisor"
ADMINISTRATOR = "Administrator"

# Highest first: a user's role is the highest group they belong to.
ROLES: tuple[str, ...] = (ADMINISTRATOR, SUPERVISOR, AGENT, VIEWER)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    VIEWER: ("accounts.view_cases",),
    # Submitting a case places a claim with Debitura for a client; agents do it as part of their work.
    AGENT: ("accounts.view_cases", "accounts.work_cases", "accounts.submit_cases"),
    SUPERVISOR: (
        "accounts.view_cases",
        "accounts.work_cases",
        "accounts.submit_cases",
        "accounts.view_all_cases",
        "accounts.reassign_cases",
        "accounts.export_data",
    ),
}


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles that hold `permission` ("app.codename"); Administrator holds every one."""
    return tuple(role for role in ROLES if role == ADMINISTRATOR or permission in ROLE_PERMISSIONS[role])


def role_of(user: Any) -> str | None:
    """The user's highest role name, or None for a user without one."""
    if user.is_superuser:
        return ADMINISTRATOR
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)


def role_by_capability(user: Any) -> str | None:
    """The role the user's permissions amount to, from the request's permission cache.

    Pages check permissions before they render, so this costs no query where role_of's group
    lookup costs one; it is also what the user can do right now. Administrators are told by staff
    status, which follows the role (accounts.signals) and is what opens Django admin.
    """
    if user.is_superuser or (user.is_staff and user.is_active):
        return ADMINISTRATOR
    held = user.get_all_permissions()
    return next((role for role in (SUPERVISOR, AGENT, VIEWER) if held >= set(ROLE_PERMISSIONS[role])), None)


def roles_sync(*, group_model: Any, permission_model: Any) -> None:
    """Create the role groups and give each exactly its permissions (Administrator: all)."""
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        if role == ADMINISTRATOR:
            # Everything an admin can manage in Django admin; framework internals stay out.
            permissions = list(
                permission_model.objects.exclude(
                    content_type__app_label__in=("contenttypes", "sessions")
                ).exclude(content_type__app_label="auth", content_type__model="permission")
            )
        else:
            wanted = [codename.split(".", 1) for codename in ROLE_PERMISSIONS[role]]
            # An early migration (accounts 0002) runs this before later ones created the newer
            # permissions; the migration that adds one runs it again (accounts 0004).
            permissions = [
                permission
                for app, codename in wanted
                for permission in permission_model.objects.filter(
                    content_type__app_label=app, codename=codename
                )
            ]
        group.permissions.set(permissions)


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """Keep Administrator's permissions complete when later migrations add models."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    # post_migrate goes out app by app; permissions of apps after "accounts" exist only once the
    # last app has had its turn. Only apps with a models module get one (documents has none).
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.name != with_models[-1].name:
        return
    roles_sync(group_model=Group, permission_model=Permission)
