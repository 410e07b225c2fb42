"""How payments reach Debitura: the outbox handlers of recording, correcting and deleting a
payment (send, confirm, undo, redo), and the payload helpers the actions write them with.
Registered with the outbox by PaymentsConfig.ready().
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_date

from cases.handlers import CASE
from debitura.client import DebituraClient
from debitura.enums import CommissionPaymentStatus, PaymentRecipient
from debitura.errors import Conflict, NotFound, PermanentError, RequestInvalid, ValidationFailed
from debitura.serialization import json_native
from debitura.types import PaymentCreated, PaymentInput
from outbox.models import OutboxAction
from outbox.registry import Handler, NeedsConsent, handler_register
from payments.models import Payment

Kind = OutboxAction.Kind

# A payment changes the case's remainder (read back from the case); when there was no answer to
# apply, its payments are read too (the cases' read-back: cases.handlers.cases_read_back).
CASE_AND_PAYMENTS = CASE | {"payments"}


# --- Payload helpers ---------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _payment_input(data: dict[str, Any]) -> PaymentInput:
    parsed = parse_date(data["date"])
    if parsed is None:
        raise RequestInvalid({"date": "is not a date."})
    status = data.get("commission_status")
    amount = _decimal(data["amount"])
    assert amount is not None
    return PaymentInput(
        date=parsed,
        amount=amount,
        recipient=PaymentRecipient(data["recipient"]),
        commission_status=CommissionPaymentStatus(status) if status else None,
        payout_creditor=_decimal(data.get("payout_creditor")),
        payout_partner=_decimal(data.get("payout_partner")),
    )


def payment_values(payment: PaymentInput) -> dict[str, Any]:
    """A payment's editable values as JSON for a payload (amounts as exact strings)."""
    return {
        "date": payment.date.isoformat(),
        "amount": str(payment.amount),
        "recipient": payment.recipient.value,
        "commission_status": payment.commission_status.value if payment.commission_status else "",
        "payout_creditor": None if payment.payout_creditor is None else str(payment.payout_creditor),
        "payout_partner": None if payment.payout_partner is None else str(payment.payout_partner),
    }


def payment_values_apply(*, payment: Payment, values: dict[str, Any]) -> None:
    """Copy payload values (see payment_values) onto a local Payment, without saving."""
    parsed = _payment_input(values)
    payment.date, payment.amount = parsed.date, parsed.amount
    payment.recipient = parsed.recipient.value
    payment.commission_status = parsed.commission_status.value if parsed.commission_status else ""
    payment.payout_creditor, payment.payout_partner = parsed.payout_creditor, parsed.payout_partner


def _local_payment(action: OutboxAction) -> Payment | None:
    payment_id = action.payload.get("payment_id")
    return Payment.objects.filter(pk=payment_id).first() if payment_id else None


def _remote_payment_id(action: OutboxAction) -> str:
    """Debitura's id of the payment an edit or delete is about, known once its creation was relayed."""
    payment = _local_payment(action)
    remote = (payment.remote_id if payment else None) or action.payload.get("remote_id")
    if not remote:
        raise PermanentError(
            "This payment was never recorded at Debitura, so it cannot be changed there.", status=0
        )
    return str(remote)


# --- Sending -------------------------------------------------------------------------------------


def _send_payment_create(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    return client.create_payment(
        str(action.case_id),
        _payment_input(p),
        close_case=bool(p.get("close_case")),
        idempotency_key=action.idempotency_key,
    )


@contextmanager
def _payment_change_refusals(action: OutboxAction) -> Iterator[None]:
    """409 on an edit or delete means the case would reopen: ask the agent. 422 means invoiced: frozen."""
    try:
        yield
    except Conflict as exc:
        raise NeedsConsent(
            f"{exc.message} Resending with your consent reopens the case to Active.",
            {**(json_native(exc.body) if isinstance(exc.body, dict) else {}), "reopen_required": True},
        ) from exc
    except ValidationFailed as exc:
        if exc.status == 422 and not exc.is_idempotency_conflict:
            Payment.objects.filter(pk=action.payload.get("payment_id")).update(frozen_reason=exc.message)
        raise


def _send_payment_update(action: OutboxAction, client: DebituraClient) -> Any:
    p = action.payload
    with _payment_change_refusals(action):
        return client.update_payment(
            str(action.case_id),
            _remote_payment_id(action),
            _payment_input(p),
            reopen_case_if_needed=bool(p.get("reopen_case_if_needed")),
        )


def _send_payment_delete(action: OutboxAction, client: DebituraClient) -> Any:
    with _payment_change_refusals(action):
        client.delete_payment(
            str(action.case_id),
            _remote_payment_id(action),
            reopen_case_if_needed=bool(action.payload.get("reopen_case_if_needed")),
        )
    return None


# --- Local consequences: confirm or roll back the optimistic change ------------------------------


def _confirm_payment_create(action: OutboxAction, result: Any) -> None:
    payment = _local_payment(action)
    if payment is None:
        return
    if not isinstance(result, PaymentCreated):
        # Debitura took it but its answer was unreadable: the refresh brings Debitura's copy.
        payment.delete()
        return
    # Debitura's id is matched within this case only: a payment of another case with the same
    # id (ids have repeated) is neither taken for ours nor moved here.
    synced = Payment.objects.filter(case_id=payment.case_id, remote_id=result.payment_id)
    synced = synced.exclude(pk=payment.pk)
    if synced.exists():
        # A pull sync already brought Debitura's copy; ours was only the placeholder.
        synced.update(action=action)
        payment.delete()
        return
    payment.remote_id = result.payment_id
    payment.state = Payment.State.CONFIRMED
    payment.warnings = list(result.warnings)
    payment.payout_creditor = result.payout_creditor
    payment.payout_partner = result.payout_collection_partner
    payment.save()


def _confirm_payment_update(action: OutboxAction, result: Any) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id")).update(state=Payment.State.CONFIRMED)


def _confirm_payment_delete(action: OutboxAction, result: Any) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id")).delete()


def _undo_payment_create(action: OutboxAction, cancelled: bool) -> None:
    payments = Payment.objects.filter(pk=action.payload.get("payment_id"), remote_id__isnull=True)
    if cancelled:
        payments.delete()
    else:
        payments.update(state=Payment.State.FAILED)


def _undo_payment_update(action: OutboxAction, cancelled: bool) -> None:
    payment = _local_payment(action)
    if payment is not None and action.payload.get("previous"):
        payment_values_apply(payment=payment, values=action.payload["previous"])
        payment.state = Payment.State.CONFIRMED
        payment.save()


def _undo_payment_delete(action: OutboxAction, cancelled: bool) -> None:
    Payment.objects.filter(pk=action.payload.get("payment_id"), state=Payment.State.DELETING).update(
        state=Payment.State.CONFIRMED
    )


def _redo_payment(action: OutboxAction) -> None:
    """Show the payment as on its way again when a failed row is retried."""
    payment = _local_payment(action)
    if payment is None:
        return
    if action.kind == Kind.PAYMENT_UPDATE:
        payment_values_apply(payment=payment, values=action.payload)
    payment.state = Payment.State.DELETING if action.kind == Kind.PAYMENT_DELETE else Payment.State.PENDING
    payment.save()


def _is_gone(exc: PermanentError) -> bool:
    return isinstance(exc, NotFound)


PAYMENT_HANDLERS: dict[str, Handler] = {
    Kind.PAYMENT_CREATE: Handler(
        _send_payment_create,
        confirm=_confirm_payment_create,
        undo=_undo_payment_create,
        redo=_redo_payment,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
    Kind.PAYMENT_UPDATE: Handler(
        _send_payment_update,
        confirm=_confirm_payment_update,
        undo=_undo_payment_update,
        redo=_redo_payment,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
    Kind.PAYMENT_DELETE: Handler(
        _send_payment_delete,
        confirm=_confirm_payment_delete,
        undo=_undo_payment_delete,
        redo=_redo_payment,
        already_done=_is_gone,
        reads=CASE,
        blind=CASE_AND_PAYMENTS,
    ),
}


def handlers_register() -> None:
    """Hand the outbox the handlers of recording, correcting and deleting payments."""
    for kind, handler in PAYMENT_HANDLERS.items():
        handler_register(kind=kind, handler=handler)
