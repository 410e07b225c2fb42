"""What cases tells the apps above it, without knowing them: signals they may connect to.

cases imports none of its listeners (the history app records them, see history.receivers); a
signal with no receiver costs a dictionary lookup. They are sent inside the writer's transaction,
so a listener's rows are written, or rolled back, with the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

# A user opened a case's page: sender=Case, case=<Case>, user=<User>.
case_opened = Signal()

# Portal-local columns of cases changed (the assignee, the agency reference; Debitura keeps
# neither): sender=Case, changes=[CaseChange ...], actor=<User or None>, reason=<str>.
cases_changed_locally = Signal()

# The local columns a CaseChange carries, before and after, by attname.
LOCAL_FIELDS = ("assigned_to_id", "partner_reference")


@dataclass(frozen=True)
class CaseChange:
    """One case's local columns (LOCAL_FIELDS) just before and just after a local write."""

    case_id: Any
    before: dict[str, Any]
    after: dict[str, Any]
