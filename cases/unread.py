"""Unread messages from the creditor's side, kept locally: Debitura has no call to mark one seen.

A message counts as unread while it is not from the agency, Debitura does not say it was seen
(read in Debitura's own portal), and nobody who works cases has opened it here. The count per
case lives on Case.unread_messages, kept by the children refresh (a sync or a webhook brought
new messages) and by case_chat_seen (an agent opened the case), so the list, the navigation and
the case page read a column instead of counting chat rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from cases.models import Case, ChatMessage

# The messages the agency has not read: from the creditor (or Debitura's managing partner).
UNREAD = Q(is_seen=False, seen_at__isnull=True) & ~Q(role=ChatMessage.Role.PARTNER)


def case_unread_recount(*, case_id: Any) -> int:
    """Count a case's unread messages again and store the count on the case; returns it."""
    unread = ChatMessage.objects.filter(UNREAD, case_id=case_id).count()
    Case.objects.filter(id=case_id).exclude(unread_messages=unread).update(unread_messages=unread)
    return unread


def case_chat_seen(*, case: Case, user: Any, now: datetime | None = None) -> list[str]:
    """Someone who works cases has the case's chat in front of them: its messages are read.

    Returns the ids of the messages that were unread until now (a page may mark them as new).
    Viewers read without clearing anything: the agents still have to see the messages.
    """
    if not case.unread_messages or not user.has_perm("accounts.work_cases"):
        return []
    now = now or timezone.now()
    ids = list(ChatMessage.objects.filter(UNREAD, case=case).values_list("pk", flat=True))
    ChatMessage.objects.filter(pk__in=ids).update(seen_at=now)
    # Recounted rather than zeroed: a message a refresh committed meanwhile stays unread.
    case.unread_messages = case_unread_recount(case_id=case.id)
    return [str(pk) for pk in ids]


@dataclass(frozen=True)
class UnreadTotal:
    """Unread messages across the cases an agent sees by default (not test cases, not gone)."""

    cases: int
    messages: int


def unread_total() -> UnreadTotal:
    """One query on the partial index case_unread (only cases with unread messages are in it)."""
    # is_test_case IN (false), not is_test_case=False: Django writes the latter as NOT
    # "is_test_case", which SQLite cannot match to the index's first column, and it then read every
    # visible case through case_gone (40 ms at 100,000 cases, on every page with the navigation).
    totals = Case.objects.filter(
        unread_messages__gt=0, gone_at__isnull=True, is_test_case__in=[False]
    ).aggregate(cases=Count("pk"), messages=Sum("unread_messages"))
    return UnreadTotal(cases=totals["cases"] or 0, messages=totals["messages"] or 0)
