"""Agents' actions on a case, one module per action (Zulip's zerver/actions): each checked, written
as an outbox row, and relayed after commit.

Every service takes keywords only and returns the OutboxAction. The optimistic local change is
small on purpose: a pending accept, close, note, chat message, fee change or upload is read from
the open rows. `write` holds case_action_write, the one way an action is written, and the steps
every action shares; other apps' actions (payments/actions.py, documents/actions.py) use it too,
and add their rules for closing with case_close_check_register (`close`).

The names are re-exported here so callers import from `cases.actions` and need not know which
module holds what.
"""

from cases.actions.accept import (
    DEBITURA_PORTAL_URL,
    STANDARD_CLAIM_TYPES,
    case_accept,
    case_custom_terms_reason,
    partner_reference_taken,
)
from cases.actions.chat import case_chat_send
from cases.actions.close import case_close, case_close_check, case_close_check_register
from cases.actions.decline import DECLINE_CLOSE_CODES, DeclineReason, case_decline
from cases.actions.fees import case_fees_update
from cases.actions.notes import case_note_add
from cases.actions.write import (
    NOT_MERGED,
    OPEN_STATES,
    WORKABLE,
    ActionInvalid,
    Kind,
    L,
    NeedsConfirmation,
    action_fields,
    action_key,
    action_same_submit,
    actor_team_email,
    case_action_write,
    case_effective_lifecycle,
    money_or_none,
)

__all__ = [
    "DEBITURA_PORTAL_URL",
    "DECLINE_CLOSE_CODES",
    "NOT_MERGED",
    "OPEN_STATES",
    "STANDARD_CLAIM_TYPES",
    "WORKABLE",
    "ActionInvalid",
    "DeclineReason",
    "Kind",
    "L",
    "NeedsConfirmation",
    "action_fields",
    "action_key",
    "action_same_submit",
    "actor_team_email",
    "case_accept",
    "case_action_write",
    "case_chat_send",
    "case_close",
    "case_close_check",
    "case_close_check_register",
    "case_custom_terms_reason",
    "case_decline",
    "case_effective_lifecycle",
    "case_fees_update",
    "case_note_add",
    "money_or_none",
    "partner_reference_taken",
]
