"""Reassigning cases between portal users: local only, Debitura has no call to change the assignee."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from cases.models import Case

log = logging.getLogger(__name__)


def cases_reassign(*, case_ids: Iterable[str], assignee: Any | None, actor: Any) -> int:
    """Assign the cases to `assignee` (None: nobody) in the portal; returns how many changed.

    The sync keeps a local assignee until Debitura's own assignee of the case changes.
    """
    ids = list(case_ids)
    changed = Case.objects.filter(id__in=ids, gone_at__isnull=True).update(assigned_to=assignee)
    log.info("%s reassigned %d case(s) to %s", actor, changed, assignee if assignee is not None else "nobody")
    return changed
