"""Recording the check's steps: each capability timed, its outcome and Debitura's answer kept.

A step is a function returning (what happened, Debitura's answer). What it raises decides the
outcome: Skip skips it, anything else fails it, with Debitura's businessErrors in words when the
refusal came from Debitura and the portal's own words when the portal refused before sending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError

from cases.actions import NeedsConfirmation
from debitura.errors import DebituraError, PermanentError, RequestInvalid
from debitura.serialization import json_native
from golive.models import GoLiveRun, GoLiveStep, Outcome
from outbox.models import OutboxAction

log = logging.getLogger(__name__)


class Skip(Exception):
    """The step cannot be tried here; the message says why."""


class StepFailed(Exception):
    """The step ran and did not do its job; `answer` is Debitura's answer, when there was one."""

    def __init__(self, message: str, answer: Any = None) -> None:
        super().__init__(message)
        self.answer = answer


StepResult = tuple[str, Any]


class Steps:
    """The steps of one run, written as each ends, so a run that dies part-way shows how far it got."""

    def __init__(self, run: GoLiveRun) -> None:
        self.run = run
        self.outcomes: dict[str, str] = {}

    def passed(self, capability: str) -> bool:
        return self.outcomes.get(capability) == Outcome.PASSED

    def run_step(
        self,
        capability: str,
        label: str,
        step: Callable[[], StepResult],
        *,
        requires: Iterable[str] = (),
    ) -> GoLiveStep:
        """Try one capability (unless a step it needs did not pass) and record how it went."""
        started = time.monotonic()
        answer: Any = None
        missing = [name for name in requires if not self.passed(name)]
        if missing:
            outcome, detail = (
                Outcome.SKIPPED,
                f"Not tried: it needs {', '.join(missing)}, which did not pass.",
            )
        else:
            try:
                detail, answer = step()
                outcome = Outcome.PASSED
            except Skip as exc:
                outcome, detail = Outcome.SKIPPED, str(exc)
            except StepFailed as exc:
                outcome, detail, answer = Outcome.FAILED, str(exc), exc.answer
            except PermanentError as exc:
                outcome, detail, answer = (
                    Outcome.FAILED,
                    f"Debitura refused ({exc.status}): {exc.message}",
                    exc.body,
                )
            except RequestInvalid as exc:
                outcome, detail = Outcome.FAILED, f"Refused before sending: {exc}"
            except DebituraError as exc:
                outcome, detail = Outcome.FAILED, str(exc)
            except NeedsConfirmation as exc:
                outcome, detail = Outcome.FAILED, f"The portal asked for a confirmation: {exc}"
            except ValidationError as exc:  # ActionInvalid: the portal refused before writing the row
                outcome, detail = Outcome.FAILED, f"The portal refused it: {_validation_words(exc)}"
            except Exception as exc:
                log.exception("go-live step %s raised", capability)
                outcome, detail = Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        self.outcomes[capability] = outcome
        return GoLiveStep.objects.create(
            run=self.run,
            position=len(self.outcomes),
            capability=capability,
            label=label,
            outcome=outcome,
            detail=detail,
            answer=json_native(answer) if answer is not None else None,
            duration_ms=round((time.monotonic() - started) * 1000),
        )


def _validation_words(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(
            f"{'' if field == '__all__' else field + ': '}{' '.join(messages)}"
            for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def relayed(action: OutboxAction, done: str) -> StepResult:
    """The step's result from its outbox row as the relay left it: Debitura's answer either way."""
    if action.state == OutboxAction.State.DONE:
        return done, action.response
    if action.state == OutboxAction.State.FAILED:
        raise StepFailed(f"Debitura refused it: {action.last_error}", action.response)
    raise StepFailed(
        f"Not through ({action.get_state_display().lower()} after {action.attempts} attempts): "
        f"{action.last_error or 'no answer yet'}",
        action.response,
    )
