"""Mirroring a case's payments from Debitura, without losing the agency's pending ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cases.changes import SYNC, cases_changed_on_commit
from cases.models import Case
from debitura import types
from payments.models import Payment


def payments_replace(*, case: Case, remotes: Sequence[types.Payment], now: datetime) -> None:
    """Make the case's confirmed payments equal Debitura's list; pending local ones stay.

    Call inside the case's children transaction.
    """
    remote_ids = [remote.id for remote in remotes]
    # Gone at Debitura (deleted there, or our delete went through): drop the local copy, but
    # not a row whose own outbox action is still on its way.
    Payment.objects.filter(case=case, remote_id__isnull=False, state=Payment.State.CONFIRMED).exclude(
        remote_id__in=remote_ids
    ).delete()
    existing = {str(p.remote_id): p for p in Payment.objects.filter(case=case, remote_id__in=remote_ids)}
    to_create, to_update = [], []
    for remote in remotes:
        values = {
            "date": remote.date or (remote.date_created.date() if remote.date_created else now.date()),
            "amount": remote.gross_amount,
            "currency": (remote.currency or case.currency).upper()[:3],
            "recipient": remote.recipient or "",
            "method": remote.method or "",
            "invoice_status": (remote.invoice.status if remote.invoice else None) or "",
            "date_created": remote.date_created,
            "synced_at": now,
        }
        current = existing.get(str(remote.id))
        if current is None:
            to_create.append(Payment(case=case, remote_id=remote.id, state=Payment.State.CONFIRMED, **values))
            continue
        if current.state != Payment.State.CONFIRMED:
            # A correction or delete of ours is on its way: the agent's values stay on show until
            # the outbox row ends (done: Debitura has them; failed: the undo puts them back).
            values = {"invoice_status": values["invoice_status"], "synced_at": now}
        for name, value in values.items():
            setattr(current, name, value)
        to_update.append(current)
    Payment.objects.bulk_create(to_create)
    cases_changed_on_commit(case_ids=[case.id], origin=SYNC)
    if to_update:
        Payment.objects.bulk_update(
            to_update,
            [
                "date",
                "amount",
                "currency",
                "recipient",
                "method",
                "invoice_status",
                "date_created",
                "synced_at",
            ],
        )
