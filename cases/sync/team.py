"""The team: Debitura's users mirrored as TeamMember rows (cases.team maps them to portal users)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases.models import TeamMember
from cases.sync.rows import _s
from debitura.client import DebituraClient, get_client


def team_sync(*, client: DebituraClient | None = None) -> list[TeamMember]:
    """Mirror GET /users; a member nobody is linked to yet is linked to the portal user with their e-mail.

    A link an administrator set (Django admin, Team members) is never changed here.
    """
    client = client or get_client()
    remotes = client.list_users()
    users = {
        email.lower(): user_id
        for user_id, email in get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .values_list("id", "email")
    }
    now = timezone.now()
    members = []
    with transaction.atomic():
        linked = set(TeamMember.objects.filter(user__isnull=False).values_list("user_id", flat=True))
        for remote in remotes:
            email = _s(remote.email)
            member, _ = TeamMember.objects.update_or_create(
                id=remote.id,
                defaults={"name": _s(remote.name), "email": email, "active": True, "synced_at": now},
            )
            user_id = users.get(email.lower())
            if member.user_id is None and user_id is not None and user_id not in linked:
                # The same e-mail already mapped the member's cases to this user: none move.
                member.user_id = user_id
                member.save(update_fields=["user"])
                linked.add(user_id)
            members.append(member)
        TeamMember.objects.exclude(id__in=[r.id for r in remotes]).update(active=False)
    return members
