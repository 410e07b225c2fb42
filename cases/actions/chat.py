"""Send a chat message to the creditor as the acting team member."""

from __future__ import annotations

from typing import Any

from cases.actions.write import WORKABLE, Kind, action_fields, actor_team_email, case_action_write
from cases.models import Case
from debitura import validation
from outbox.models import OutboxAction


def case_chat_send(*, case: Case, actor: Any, message: str, token: str | None = None) -> OutboxAction:
    """Send a chat message to the creditor as the acting team member."""
    user_email = actor_team_email(actor)
    with action_fields({"userEmail": "actor"}):
        validation.check_chat(message=message, user_email=user_email, idempotency_key=None)
    payload = {"message": message, "user_email": user_email}
    return case_action_write(
        case=case, actor=actor, kind=Kind.CHAT, payload=payload, token=token, allowed=WORKABLE
    )
