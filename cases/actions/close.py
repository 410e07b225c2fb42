"""Close a case the agency works, after every other app's close checks (registered here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cases.actions.write import WORKABLE, Kind, action_fields, case_action_write
from cases.models import Case
from debitura import validation
from debitura.enums import CloseCode
from outbox.models import OutboxAction

# What another app checks before a case is closed (payments: Debitura's rules for Paid and
# PartiallyPaid), registered from its AppConfig.ready(); each may raise ActionInvalid.
_CLOSE_CHECKS: list[Callable[..., None]] = []


def case_close_check_register(check: Callable[..., None]) -> None:
    """Add a check that runs before a close is queued, as `check(case=..., close_code=...)`."""
    if check not in _CLOSE_CHECKS:
        _CLOSE_CHECKS.append(check)


def case_close_check(*, case: Case, close_code: CloseCode) -> None:
    """Run every registered close check on the local copy; raises ActionInvalid on the first refusal."""
    for check in _CLOSE_CHECKS:
        check(case=case, close_code=close_code)


def case_close(
    *, case: Case, actor: Any, close_code: CloseCode | str, comment: str = "", token: str | None = None
) -> OutboxAction:
    """Close a case the agency works, with Debitura's reason code (Other needs a comment)."""
    code = CloseCode.parse(close_code) if isinstance(close_code, str) else close_code
    with action_fields({"closeCode": "close_code"}):
        validation.check_close(close_code=code, comment=comment or None)
    case_close_check(case=case, close_code=code)
    payload = {"close_code": code.value, "comment": comment}
    return case_action_write(
        case=case, actor=actor, kind=Kind.CLOSE, payload=payload, token=token, allowed=WORKABLE
    )
