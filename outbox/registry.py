"""How the apps plug their actions into the relay: a Handler per kind of action, and one
read-back of what relayed actions changed.

Each app registers its handlers from its AppConfig.ready() (cases: accept, decline, close, note,
chat, fees; payments: record, correct, delete; uploads), so the relay imports no app. Here too:
what a handler may raise besides the gateway's errors (NeedsConsent), the payload key a
look-alike count is kept under (BEFORE), and how a typed answer is stored (jsonable).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from debitura.client import DebituraClient
from debitura.errors import PermanentError
from outbox.models import OutboxAction

# The payload key under which what a handler's `before` found is kept (see Handler.before).
BEFORE = "before_send"


class NeedsConsent(Exception):
    """Debitura answered that the change needs the agent's explicit consent (409 with data)."""

    def __init__(self, message: str, body: Any) -> None:
        self.message = message
        self.body = body
        super().__init__(message)


def jsonable(value: Any) -> Any:
    """A typed gateway result (Structs, dataclasses, Decimals, dates, enums) as plain JSON for `response`."""
    if isinstance(value, msgspec.Struct):
        # By attribute name; a list Debitura may send as null is read through its property.
        names = (name.removesuffix("_or_none") for name in value.__struct_fields__)
        return {name: jsonable(getattr(value, name)) for name in names}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "raw"
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Handler:
    """How one kind of action is sent, checked after an unclear failure, confirmed and undone.

    `check` is None where resending is safe: an Idempotency-Key replays the first answer, or
    the request (PUT, DELETE) is idempotent by nature.
    """

    send: Callable[[OutboxAction, DebituraClient], Any]
    check: Callable[[OutboxAction, DebituraClient], bool] | None = None
    confirm: Callable[[OutboxAction, Any], None] | None = None
    undo: Callable[[OutboxAction, bool], None] | None = None
    redo: Callable[[OutboxAction], None] | None = None
    # A refusal that means the effect is already there (deleting a payment that is gone).
    already_done: Callable[[PermanentError], bool] | None = None
    # What the case holds before the first send, kept in the payload under BEFORE, so that the
    # check tells our effect from a look-alike already there (the creditor's own proof.pdf). It
    # returns what to keep and the listing (of the child named by `listing`) it read, or was
    # given as the run knows it.
    before: Callable[[OutboxAction, DebituraClient, Any], tuple[Any, Any]] | None = None
    listing: str | None = None
    # Puts that listing together with Debitura's answer (None when an earlier attempt read the
    # listing): the child as it is now, without reading it again.
    fold: Callable[[OutboxAction, Any, Any], Any] | None = None
    # What is read back from Debitura once the row is done (names the registered read-back
    # knows): what the action changed that its answer does not carry (confirm writes what it
    # does carry). `blind` is read instead when there was no answer to apply: the effect was
    # found after an unclear failure, or the answer could not be read. The rest of the case
    # follows through the sync and the children queue, as any change at Debitura does.
    reads: frozenset[str] = frozenset()
    blind: frozenset[str] = frozenset()


# Every kind's handler, by kind; filled by the apps' AppConfig.ready().
HANDLERS: dict[str, Handler] = {}


def handler_register(*, kind: str, handler: Handler) -> None:
    """Relay actions of `kind` with `handler` (from the owning app's AppConfig.ready())."""
    known = HANDLERS.get(kind)
    if known is not None and known != handler:
        raise ImproperlyConfigured(f"Outbox actions of kind {kind!r} have a handler already.")
    HANDLERS[kind] = handler


@dataclass(frozen=True)
class ReadBack:
    """How the relay has what relayed actions changed read again from Debitura.

    `read` gets the cases' ids, each with the parts owed (what the handlers' `reads` and `blind`
    named, possibly none), and the relay's client; a failure for one case must not stop the
    others. `refused` is what a refused action owes: nothing changed at Debitura, but the local
    copy it was checked against may be out of date.
    """

    read: Callable[[Mapping[str, frozenset[str]], DebituraClient], None]
    refused: frozenset[str] = frozenset()


def _read_nothing(owed: Mapping[str, frozenset[str]], client: DebituraClient) -> None:
    return None


_read_back = ReadBack(_read_nothing)


def read_back_register(*, read_back: ReadBack) -> None:
    """Have what relayed actions changed read back this way (one for the portal, from cases)."""
    global _read_back
    _read_back = read_back


def read_back() -> ReadBack:
    """The registered read-back (reading nothing until one is registered)."""
    return _read_back


def handlers_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every kind of action has a handler once the apps are ready."""
    return [
        checks.Error(f"No outbox handler is registered for actions of kind {kind!r}.", id="outbox.E001")
        for kind in OutboxAction.Kind.values
        if kind not in HANDLERS
    ]
