"""The agency's own reference on a case, kept locally: Debitura's case object does not carry it.

It is given when the case is accepted (start), and Debitura only echoes it in the answer to that
call or finds a case by it. So the portal writes it with the accept's outbox row (the header,
the list and the search box show it at once), takes it back if Debitura refuses the accept, and
learns it from a batch lookup for cases accepted elsewhere. The sync never writes the column.
Each write goes out with cases_changed_locally (cases.events), so the history app records it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from cases.events import CaseChange, cases_changed_locally
from cases.models import Case
from cases.sync.rows import search_text


def _write(case_id: Any, reference: str, holding: Q, *, actor: Any, reason: str) -> bool:
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(holding, id=case_id).first()
        if case is None:
            return False
        text = search_text({**case.__dict__, "partner_reference": reference})
        # The same condition again: a concurrent writer that changed the reference wins.
        held = Case.objects.filter(holding, id=case_id)
        written = bool(held.update(partner_reference=reference, search_text=text))
        if written and case.partner_reference != reference:
            before = {"assigned_to_id": case.assigned_to_id, "partner_reference": case.partner_reference}
            change = CaseChange(
                case_id=case.pk, before=before, after={**before, "partner_reference": reference}
            )
            cases_changed_locally.send(sender=Case, changes=[change], actor=actor, reason=reason)
    return written


def case_reference_give(*, case_id: Any, reference: str, actor: Any = None, reason: str = "") -> bool:
    """Store an agency reference on a case that has none yet (or has this one) and index it for search."""
    if not reference:
        return False
    holding = Q(partner_reference="") | Q(partner_reference=reference)
    return _write(case_id, reference, holding, actor=actor, reason=reason)


def case_reference_take_back(*, case_id: Any, reference: str, reason: str = "") -> bool:
    """Remove the reference an accept gave, when Debitura refused the accept or it was withdrawn."""
    if not reference:
        return False
    return _write(case_id, "", Q(partner_reference=reference), actor=None, reason=reason)
