"""Who is who: the agency's team members at Debitura and the portal users they are.

One mapping serves every place that needs it: the sync (whose cases a portal user gets), "My
cases" (through Case.assigned_to, which the sync and a new link fill), the accept form's
assignee and the address sent as the actor's. A link an administrator set in Django admin (Team
members -> User) wins; a portal user without one is the member with the same e-mail.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, Value

from cases.models import Case, TeamMember


def team_user_ids_by_email() -> dict[str, int]:
    """The portal user id for each team e-mail (lower-cased): the linked user, else the same e-mail's."""
    # One query (the sync asks once a page): users by their e-mail first, the links after them,
    # so that a link an administrator set overwrites the e-mail match.
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .annotate(link=Value(0))
        .order_by()
        .values_list("email", "id", "link")
    )
    links = (
        TeamMember.objects.filter(user__isnull=False, user__is_active=True)
        .annotate(link=Value(1))
        .order_by()
        .values_list("email", "user_id", "link")
    )
    return {email.lower(): user_id for email, user_id, _ in users.union(links, all=True).order_by("link")}


def team_member_for(*, user: Any) -> TeamMember | None:
    """The active team member a portal user acts as: the one linked to them, else their e-mail's."""
    if user is None or not getattr(user, "pk", None):
        return None
    linked = TeamMember.objects.filter(user=user, active=True).first()
    if linked is not None or not user.email:
        return linked
    # A member linked to someone else is that person, even when the addresses match.
    return (
        TeamMember.objects.filter(email__iexact=user.email, active=True)
        .filter(Q(user__isnull=True) | Q(user=user))
        .first()
    )


def team_member_link(*, member: TeamMember, user: Any | None) -> int:
    """Link a team member to a portal user (None: unlink); the member's cases follow. Returns how many moved.

    Cases Debitura assigns to the member that were with the previous owner (or nobody) go to the
    new one; a case a supervisor reassigned to someone else in the portal stays where it is.
    """
    with transaction.atomic():
        email = member.email.lower()
        before = team_user_ids_by_email().get(email)
        member.user = user
        member.save(update_fields=["user"])
        after = team_user_ids_by_email().get(email)
        if before == after:
            return 0
        owner = (
            Q(assigned_to__isnull=True) | Q(assigned_to_id=before) if before else Q(assigned_to__isnull=True)
        )
        return (
            Case.objects.filter(debitura_assignee_email__iexact=member.email)
            .filter(owner)
            .update(assigned_to_id=after)
        )
