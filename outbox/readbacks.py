"""Reading back what relayed actions changed, folded per case: the relay owes each case the
parts its actions named (Handler.reads, Handler.blind), and the registered read-back reads them
once for all of the case's actions relayed within FOLD_SECONDS."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from debitura.client import DebituraClient
from outbox.registry import read_back

# What actions on one case relayed within this many seconds change is read back once.
FOLD_SECONDS = 2.0


@dataclass
class _Owed:
    since: float
    parts: set[str] = dataclasses.field(default_factory=set)
    known: dict[str, Any] = dataclasses.field(default_factory=dict)  # child -> listing as it is now


class ReadBacks:
    """What relayed actions left to read back from Debitura, folded per case: the parts each
    action changed are read once for all of the case's actions relayed within FOLD_SECONDS.
    It also keeps a child the run knows as it is now (the timeline read before a note, plus the
    note), in which the case's next note counts its look-alikes instead of reading it again."""

    def __init__(self, client: DebituraClient) -> None:
        self.client = client
        self._owed: dict[str, _Owed] = {}

    def add(self, case_id: str, parts: frozenset[str]) -> None:
        """An action on the case reached Debitura; `parts` is what it changed and must be read."""
        self._owed.setdefault(case_id, _Owed(time.monotonic())).parts.update(parts)

    def know(self, case_id: str, part: str, listing: Any) -> None:
        self._owed.setdefault(case_id, _Owed(time.monotonic())).known[part] = listing

    def known(self, case_id: str, part: str | None) -> Any:
        owed = self._owed.get(case_id)
        return owed.known.get(part) if owed is not None and part is not None else None

    def flush(self, *, older_than: float = 0.0) -> None:
        """Read back what is owed for `older_than` seconds or longer and forget what is known;
        a failure here changes nothing about the rows (the sync and the children queue bring
        the case later)."""
        moment = time.monotonic()
        due = {case_id: owed for case_id, owed in self._owed.items() if moment - owed.since >= older_than}
        if not due:
            return
        for case_id in due:
            del self._owed[case_id]
        read_back().read({case_id: frozenset(owed.parts) for case_id, owed in due.items()}, self.client)
