"""How a submitted case reaches Debitura: the outbox handler of POST /managed-cases.

The row's Idempotency-Key goes with every attempt and its body is rebuilt the same from the
payload each time, so a resend after a timeout or a lost answer replays Debitura's first answer
instead of creating the case twice: no check for the effect is needed (as for chat and payments).
Registered with the outbox by ManagedConfig.ready().
"""

from __future__ import annotations

from typing import Any

import msgspec
from django.db import transaction

from debitura import types
from debitura.client import DebituraClient
from debitura.types import ManagedCaseInput
from managed.models import ManagedCase
from managed.rows import managed_row_fill
from outbox.models import OutboxAction
from outbox.registry import Handler, handler_register


def submission_payload(*, managed_case_id: str, case: ManagedCaseInput) -> dict[str, Any]:
    """What the outbox row keeps: the local row it belongs to and the case exactly as submitted."""
    return {"managed_case_id": managed_case_id, "case": msgspec.to_builtins(case)}


def submission_case(action: OutboxAction) -> ManagedCaseInput:
    """The submitted case, from the row's payload (the same body on every attempt)."""
    return msgspec.convert(action.payload["case"], ManagedCaseInput)


def _send(action: OutboxAction, client: DebituraClient) -> Any:
    return client.create_managed_case(submission_case(action), idempotency_key=action.idempotency_key)


def _confirm(action: OutboxAction, result: Any) -> None:
    """Debitura's answer is the case it created: the submission becomes that case."""
    if not isinstance(result, types.Case):
        return  # an answer that could not be read: the sync brings the case
    with transaction.atomic():
        row = ManagedCase.objects.select_for_update().filter(pk=action.payload["managed_case_id"]).first()
        if row is None:
            return
        # The sync may have met the case before its answer was applied (the answer was lost and the
        # resend came later): that copy is this submission's case, kept once.
        ManagedCase.objects.filter(remote_id=result.id, submission__isnull=True).exclude(pk=row.pk).delete()
        managed_row_fill(row=row, case=result)
        row.save()


MANAGED_HANDLERS = {OutboxAction.Kind.MANAGED_SUBMIT: Handler(send=_send, confirm=_confirm)}


def handlers_register() -> None:
    """Hand the outbox the handler of a case submission."""
    for kind, handler in MANAGED_HANDLERS.items():
        handler_register(kind=kind, handler=handler)
