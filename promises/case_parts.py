"""What promises adds to a case, registered with cases (cases.children) from PromisesConfig.ready():
the case page's "Promises to pay" section, its rows in the page's live stamp (so a promise that
turns kept or broken shows without a reload), and the action panel's "Record a promise to pay".

Promises are the agency's own (Debitura has no promise endpoint): the part is never fetched;
its name is not in cases.sync.CHILD_PARTS, so the children refresh never calls fetch or store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from cases.children import ChildPart, PanelEntry, child_part_register, panel_entry_register
from cases.models import Case
from debitura.client import DebituraClient
from promises.forms import PromiseRecordForm
from promises.models import Promise, PromiseInstalment, PromiseStatus


def case_promises_context(case: Case) -> dict[str, Any]:
    """The case page's promises with their instalments, newest promise first, in one query (every
    promise has at least one instalment, so reading instalments with their promise finds them all)."""
    instalments = (
        PromiseInstalment.objects.filter(promise__case=case)
        .select_related("promise", "promise__recorded_by", "promise__action")
        .order_by("-promise__created_at", "-promise_id", "position")
    )
    promises: dict[int, PromiseView] = {}
    for instalment in instalments:
        view = promises.setdefault(instalment.promise_id, PromiseView(instalment.promise))
        view.schedule.append(instalment)
    return {"promises": list(promises.values())}


@dataclass
class PromiseView:
    """A promise as its section shows it: its instalments, the next one open, what was paid."""

    promise: Promise
    schedule: list[PromiseInstalment] = field(default_factory=list)

    @property
    def next_due(self) -> PromiseInstalment | None:
        return next((i for i in self.schedule if i.status == PromiseStatus.OPEN), None)

    @property
    def paid(self) -> Decimal:
        return sum((i.paid for i in self.schedule), Decimal(0))


def _not_fetched(client: DebituraClient, case_id: str) -> None:
    return None


def _not_stored(case: Case, fetched: Any, now: datetime) -> None:
    return None


def _rows() -> QuerySet[Promise]:
    return Promise.objects.all()


def _record_form(case: Case, initial: dict[str, Any]) -> PromiseRecordForm:
    return PromiseRecordForm(case=case, initial=initial)


def _resend_initial(payload: dict[str, Any]) -> dict[str, Any]:
    # A promise's note is kind "note": a failed one is resent from the note form, not this one.
    return {}


PROMISES_PART = ChildPart(
    name="promises",
    fetch=_not_fetched,
    store=_not_stored,
    rows=_rows,
    stamp_at="updated_at",
    page=case_promises_context,
    template="promises/_case_promises.html",
)
RECORD_ENTRY = PanelEntry(
    name="promise",
    form=_record_form,
    template="promises/_record_form.html",
    initial=_resend_initial,
)


def promises_register() -> None:
    """Register promises' part of a case with cases (idempotent)."""
    child_part_register(PROMISES_PART)
    panel_entry_register(RECORD_ENTRY)
