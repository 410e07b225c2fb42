"""Payments saved or deleted one by one (recorded, confirmed, corrected, deleted here or by the
sync) re-evaluate their case's promises once the transaction commits.

Debitura's payments stored by a children refresh are written in bulk, which sends no signals:
the sweep in promises.tasks catches those (cases refreshed since their promises were evaluated).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from cases.changes import AGENT
from payments.models import Payment
from promises.evaluation import promises_evaluate
from promises.models import Promise, PromiseStatus


def _payment_changed(sender: Any, instance: Payment, **kwargs: Any) -> None:
    case_id = instance.case_id
    # Most cases have no promise: one cheap query, and nothing is queued for them.
    if not Promise.objects.filter(case_id=case_id).exclude(status=PromiseStatus.CANCELLED).exists():
        return

    def evaluate() -> None:
        # One case, right after a payment was written: its promise tasks follow at once (AGENT),
        # so the agent who recorded the payment sees a kept promise's task leave.
        promises_evaluate(case_ids=[case_id], origin=AGENT)

    # robust: a failed evaluation is logged and left to the sweep; the payment's write stands.
    transaction.on_commit(evaluate, robust=True)


def receivers_connect() -> None:
    """Listen to the payments' saves and deletes (idempotent: one receiver each)."""
    post_save.connect(_payment_changed, sender=Payment, dispatch_uid="promises.payment_saved")
    post_delete.connect(_payment_changed, sender=Payment, dispatch_uid="promises.payment_deleted")
