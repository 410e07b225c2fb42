"""The morning digest: one e-mail a day to each user who asked for one, listing their due and
overdue tasks.

Beat runs worklist.tasks.digest at DIGEST_HOUR in the portal's TIME_ZONE. A user's tasks are the
tasks on the cases assigned to them (the unassigned ones are everybody's and would be in every
digest), due before the end of today, as the navigation counts them. Nothing is sent to a user
with none. Never twice a day: the day is claimed on the user's preference with one conditional
UPDATE before sending, so a second beat run or a second worker finds it taken; a send that fails
gives the day back, for the next run to try again.

Plain text and HTML, both rendered by templates that escape (the text one unescaped by design,
it is not HTML); links are absolute from PORTAL_BASE_URL and left out without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreference
from worklist.inbox import deadline_words, end_of_today
from worklist.models import Task
from worklist.sources import kind_label

log = logging.getLogger(__name__)

# Tasks listed in one digest; past it, the e-mail says how many more the inbox holds.
LISTED = 50


@dataclass(frozen=True)
class DigestLine:
    """One task as the digest lists it."""

    kind: str
    reference: str
    debtor: str
    reason: str
    due_at: datetime
    when: str
    overdue: bool
    link: str
    action: str


def _absolute(path: str) -> str:
    base = settings.PORTAL_BASE_URL
    return f"{base}{path}" if base else ""


def digest_lines(*, user: Any, now: datetime) -> tuple[list[DigestLine], int]:
    """The user's tasks due before the end of today, nearest deadline first (at most LISTED), and
    how many there are in all."""
    due = Task.objects.filter(assignee=user, visible=True, due_at__lt=end_of_today(now))
    tasks = list(due.select_related("case").order_by("due_at", "id")[: LISTED + 1])
    total = len(tasks) if len(tasks) <= LISTED else due.count()
    lines = [
        DigestLine(
            kind=kind_label(task.kind),
            reference=task.case.reference,
            debtor=task.case.debtor_name or "",
            reason=task.reason,
            due_at=task.due_at,
            when=deadline_words(task.due_at, now),
            overdue=task.due_at < now,
            link=_absolute(task.url),
            action=task.action,
        )
        for task in tasks[:LISTED]
    ]
    return lines, total


def digest_message(
    *, user: Any, lines: list[DigestLine], total: int, now: datetime
) -> EmailMultiAlternatives:
    """The e-mail, in the user's time zone (their preference, else the portal's)."""
    overdue = sum(1 for line in lines if line.overdue)
    if total > len(lines):
        subject = f"My work: {total} tasks due today or overdue"
    else:
        parts = [f"{overdue} overdue"] if overdue else []
        if total - overdue:
            parts.append(f"{total - overdue} due today")
        subject = "My work: " + ", ".join(parts)
    zone = UserPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    context = {
        "user": user,
        "name": user.get_full_name() or user.get_username(),
        "lines": lines,
        "total": total,
        "more": total - len(lines),
        "inbox_link": _absolute(reverse("worklist:inbox")),
        "settings_link": _absolute(reverse("worklist:inbox") + "#digest"),
        "today": timezone.localdate(now),
    }
    with timezone.override(zone or settings.TIME_ZONE):
        text = render_to_string("worklist/digest.txt", context)
        html = render_to_string("worklist/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


def _claim(user: Any, today: date) -> bool:
    """Take today for this user's digest: True for exactly one caller a day (a conditional UPDATE)."""
    return bool(
        UserPreference.objects.filter(user=user, digest=True)
        .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
        .update(digest_sent_on=today)
    )


def digest_send(*, user: Any, now: datetime | None = None) -> bool:
    """Send this user today's digest unless they have no due task or it was sent today; True if sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    lines, total = digest_lines(user=user, now=now)
    if not lines or not _claim(user, today):
        return False
    message = digest_message(user=user, lines=lines, total=total, now=now)
    try:
        message.send()
    except Exception:
        # Give the day back, so that the next run sends it; the others' digests go on.
        UserPreference.objects.filter(user=user, digest_sent_on=today).update(digest_sent_on=None)
        log.exception("morning digest to user %s not sent", user.pk)
        return False
    return True


def digests_send(*, now: datetime | None = None) -> int:
    """Send today's digest to every active user who asked for one and still works cases; how many went."""
    now = now or timezone.now()
    users = (
        get_user_model()
        .objects.filter(is_active=True, preference__digest=True)
        .exclude(email="")
        .exclude(preference__digest_sent_on__gte=timezone.localdate(now))
        .order_by("pk")
    )
    sent = 0
    for user in users:
        if user.has_perm("accounts.work_cases"):  # a user made a viewer keeps no tasks to do
            sent += digest_send(user=user, now=now)
    log.info("morning digests sent: %d", sent)
    return sent


def digest_enabled(*, user: Any) -> bool:
    return UserPreference.objects.filter(user=user, digest=True).exists()


def digest_set(*, user: Any, enabled: bool) -> UserPreference:
    """Turn the user's morning digest on or off."""
    preference, _ = UserPreference.objects.get_or_create(user=user)
    if preference.digest != enabled:
        preference.digest = enabled
        preference.save(update_fields=["digest"])
    return preference
