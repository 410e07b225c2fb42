"""Reassigning cases between portal users: local only, Debitura has no call to change the assignee."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from cases.changes import AGENT, cases_changed_on_commit
from cases.events import LOCAL_FIELDS, CaseChange, cases_changed_locally
from cases.models import Case

log = logging.getLogger(__name__)


def cases_reassign(*, case_ids: Iterable[str], assignee: Any | None, actor: Any) -> int:
    """Assign the cases to `assignee` (None: nobody) in the portal; returns how many changed.

    The sync keeps a local assignee until Debitura's own assignee of the case changes. Who had
    each case before goes out with cases_changed_locally (one row per case in the history app).
    """
    ids = list(case_ids)
    new_id = assignee.pk if assignee is not None else None
    with transaction.atomic():
        # Locked, so the "before" told to listeners is what the UPDATE overwrites.
        held = Case.objects.select_for_update().filter(id__in=ids, gone_at__isnull=True)
        before = list(held.values_list("id", *LOCAL_FIELDS))
        changed = held.update(assigned_to=assignee)
        changes = [
            CaseChange(
                case_id=case_id,
                before={"assigned_to_id": was, "partner_reference": reference},
                after={"assigned_to_id": new_id, "partner_reference": reference},
            )
            for case_id, was, reference in before
            if was != new_id
        ]
        if changes:
            cases_changed_locally.send(sender=Case, changes=changes, actor=actor, reason="Reassigned")
        cases_changed_on_commit(case_ids=ids, origin=AGENT)
    log.info("%s reassigned %d case(s) to %s", actor, changed, assignee if assignee is not None else "nobody")
    return changed
