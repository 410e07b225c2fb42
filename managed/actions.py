"""Submitting a case as managing partner: checked as Debitura would check it, then written as the
local row and its outbox row in one transaction, and relayed after commit.

The form's one-time token becomes the outbox row's Idempotency-Key, so a double click reaches this
twice with one token and gets the first submission back; the relay sends that key with every
attempt, so an outage or a timeout never submits the case twice either.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.actions import ActionInvalid, action_key
from debitura import validation
from debitura.errors import RequestInvalid
from debitura.types import ManagedCaseInput
from managed.handlers import submission_payload
from managed.models import ManagedCase
from outbox.models import OutboxAction
from outbox.tasks import relay_outbox

Kind = OutboxAction.Kind


def api_field_name(name: str) -> str:
    """Debitura's field name (debtor.contactPerson) as the form's (debtor_contact_person)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name.replace(".", "_")).lower().replace("_alpha_2", "_alpha2")


def _same_submission(existing: OutboxAction, *, actor: Any) -> ManagedCase:
    if existing.kind != Kind.MANAGED_SUBMIT or existing.actor_id != getattr(actor, "pk", None):
        raise ActionInvalid({"token": "This form was already used for another action; reload the page."})
    return ManagedCase.objects.get(submission=existing)


def managed_case_submit(
    *, actor: Any, case: ManagedCaseInput, token: str | None, now: datetime | None = None
) -> ManagedCase:
    """Queue the case for Debitura and return its local row (the first one, for a token used twice).

    Raises ActionInvalid, per form field, for what Debitura's rules refuse; nothing is written then.
    """
    key = action_key(token)
    try:
        validation.check_managed_case(case, idempotency_key=key)
    except RequestInvalid as exc:
        names = {"Idempotency-Key": "token"}
        raise ActionInvalid(
            {names.get(field) or api_field_name(field): message for field, message in exc.errors.items()}
        ) from None
    now = now or timezone.now()
    with transaction.atomic():
        existing = OutboxAction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _same_submission(existing, actor=actor)
        row_id = uuid.uuid4()
        try:
            with transaction.atomic():
                action = OutboxAction.objects.create(
                    kind=Kind.MANAGED_SUBMIT,
                    case=None,
                    actor=actor,
                    payload=submission_payload(managed_case_id=str(row_id), case=case),
                    idempotency_key=key,
                    created_at=now,
                    next_attempt_at=now,
                )
        except IntegrityError:
            # The same token committed by a concurrent request in between.
            return _same_submission(OutboxAction.objects.get(idempotency_key=key), actor=actor)
        row = ManagedCase.objects.create(
            id=row_id,
            submission=action,
            submitted_by=actor,
            submitted_at=now,
            listed_at=now,
            creditor_reference=case.creditor_reference or "",
            is_test_case=case.is_test,
            tag=case.tag or "",
            currency=case.currency_code.upper(),
            gross_amount=case.amount_to_recover,
            debtor_name=case.debtor.name,
            debtor_country=(case.debtor.country_alpha2 or "").upper() or case.debtor.country or "",
            creditor_name=case.creditor_company_name,
            search_text=" ".join(
                t.lower()
                for t in (case.creditor_reference, case.debtor.name, case.creditor_company_name)
                if t
            ),
        )
        transaction.on_commit(lambda: relay_outbox.delay(str(action.id)))
    return row
