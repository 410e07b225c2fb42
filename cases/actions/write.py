"""The one way an agent's action is written: checked, stored as an outbox row, relayed after commit.

case_action_write locks the case, checks its lifecycle (counting the open rows), writes the row and
the optimistic local change in one transaction and queues the relay on commit. Every action
module of this package, and other apps' actions (payments/actions.py, documents/actions.py), use
it and the shared steps beside it.
A client-supplied `token` (a hidden form field) becomes the idempotency key, so a double
submit returns the row the first submit wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from cases.changes import AGENT, cases_changed_on_commit
from cases.models import Case, LifecycleChoices
from cases.team import team_member_for
from debitura import validation
from debitura.errors import RequestInvalid
from outbox.models import OutboxAction
from outbox.tasks import relay_outbox

Kind = OutboxAction.Kind
OPEN_STATES = (OutboxAction.State.PENDING, OutboxAction.State.SENDING)
L = LifecycleChoices
WORKABLE = frozenset({L.ACTIVE, L.PAUSED, L.NEEDS_ADDITIONAL_DETAILS})
NOT_MERGED = frozenset(L) - {L.MERGED}
# What an open row of these kinds makes the case, until Debitura answers.
_LIFECYCLE_AFTER = {Kind.ACCEPT: L.ACTIVE, Kind.DECLINE: L.CLOSED, Kind.CLOSE: L.CLOSED}


class ActionInvalid(ValidationError):
    """The action cannot be queued; `message_dict` maps each field (or "__all__") to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(dict(errors))


class NeedsConfirmation(Exception):
    """The action is possible, but the agent must answer these questions first (`warnings`).

    Raised under the case's lock, so two sessions asking at the same moment each see the other's
    action: the second one is asked. `remainder` is what the questions were based on.
    """

    def __init__(self, warnings: list[str], *, remainder: Decimal | None = None) -> None:
        self.warnings = warnings
        self.remainder = remainder
        super().__init__(" ".join(warnings))


@contextmanager
def action_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Turn the gateway's RequestInvalid (Debitura's field names) into ActionInvalid (ours)."""
    try:
        yield
    except RequestInvalid as exc:
        raise ActionInvalid(
            {names.get(field, field): message for field, message in exc.errors.items()}
        ) from None


def money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def actor_team_email(actor: Any) -> str:
    """The actor's address in the agency's team at Debitura (the sender Debitura will check)."""
    member = team_member_for(user=actor)
    email = member.email if member else getattr(actor, "email", "")
    if not email:
        raise ActionInvalid({"__all__": "Your account has no e-mail address in the agency's Debitura team."})
    return email


def action_key(token: str | None) -> str:
    if token is None or token == "":
        return uuid.uuid4().hex
    with action_fields({"Idempotency-Key": "token"}), validation.checks() as c:
        c.idempotency_key(token)
    return token


def case_effective_lifecycle(*, case: Case, actions: Iterable[OutboxAction] | None = None) -> str:
    """The lifecycle the case will have once its open accept/decline/close rows are through.

    A row done after the local copy was last synced counts too: its refresh has not landed yet.
    `actions`, when given, are the case's rows already read (every open one and the newest), so
    the case page asks no query of its own.
    """
    lifecycle = case.lifecycle
    if actions is None:
        not_in_copy = Q(state__in=OPEN_STATES) | Q(state=OutboxAction.State.DONE, done_at__gte=case.synced_at)
        kinds = list(
            OutboxAction.objects.filter(not_in_copy, case=case, kind__in=list(_LIFECYCLE_AFTER))
            .order_by("created_at")
            .values_list("kind", flat=True)
        )
    else:
        kinds = [
            a.kind
            for a in sorted(actions, key=lambda a: a.created_at)
            if a.kind in _LIFECYCLE_AFTER
            and (
                a.state in OPEN_STATES
                or (a.state == OutboxAction.State.DONE and a.done_at and a.done_at >= case.synced_at)
            )
        ]
    for kind in kinds:
        lifecycle = _LIFECYCLE_AFTER[Kind(kind)]
    return lifecycle


def case_action_write(
    *,
    case: Case,
    actor: Any,
    kind: OutboxAction.Kind,
    payload: dict[str, Any],
    token: str | None,
    allowed: frozenset[str],
    optimistic: Callable[[OutboxAction], None] | None = None,
    check: Callable[[Case], None] | None = None,
    now: datetime | None = None,
) -> OutboxAction:
    """Write the row (and the optimistic change) in one transaction; queue the relay on commit.

    `check` runs under the case's lock, after the lifecycle check, and may raise ActionInvalid
    (or NeedsConfirmation).
    """
    key = action_key(token)
    with transaction.atomic():
        # One writer per case at a time: checks see every earlier action, and created_at is strictly
        # increasing per case, which is the order the relay keeps.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        existing = OutboxAction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return action_same_submit(existing, case=locked, actor=actor, kind=kind)
        lifecycle = case_effective_lifecycle(case=locked)
        if lifecycle not in allowed:
            label = L(lifecycle).label if lifecycle in L.values else lifecycle
            raise ActionInvalid({"__all__": f"Not possible on a case that is {label}."})
        if check is not None:
            check(locked)
        now = now or timezone.now()
        latest = OutboxAction.objects.filter(case=locked).aggregate(latest=Max("created_at"))["latest"]
        created = max(now, latest + timedelta(microseconds=1)) if latest else now
        try:
            with transaction.atomic():
                action = OutboxAction.objects.create(
                    kind=kind,
                    case=locked,
                    actor=actor,
                    payload=payload,
                    idempotency_key=key,
                    created_at=created,
                    next_attempt_at=created,
                )
        except IntegrityError:
            # The same token committed by a concurrent request in between.
            return action_same_submit(
                OutboxAction.objects.get(idempotency_key=key), case=locked, actor=actor, kind=kind
            )
        if optimistic is not None:
            optimistic(action)
        cases_changed_on_commit(case_ids=[locked.pk], origin=AGENT)
        transaction.on_commit(lambda: relay_outbox.delay(str(action.id)))
    return action


def action_same_submit(existing: OutboxAction, *, case: Case, actor: Any, kind: str) -> OutboxAction:
    """The row a token already wrote, when it was this case's, this actor's and this kind's."""
    if (
        existing.case_id != case.pk
        or existing.kind != kind
        or existing.actor_id != getattr(actor, "pk", None)
    ):
        raise ActionInvalid({"token": "This form was already used for another action; reload the page."})
    return existing
