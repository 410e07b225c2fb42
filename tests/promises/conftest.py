"""Helpers for the promise tests: a promise's values as an agent enters them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone


def promise_values(**overrides: Any) -> dict[str, Any]:
    """1,200.00 in three monthly instalments from ten days ahead, promised by phone."""
    values: dict[str, Any] = {
        "amount": Decimal("1200.00"),
        "first_due": timezone.localdate() + timedelta(days=10),
        "instalments": 3,
        "interval": "monthly",
        "made_by": "Jane Debtor (accounts payable)",
        "channel": "phone",
        "note": "Salary comes on the 10th.",
    }
    values.update(overrides)
    return values


def form_data(**overrides: Any) -> dict[str, Any]:
    """The record form as posted: every value as text, with a token."""
    values = {"token": "tok-promise-1", "instalment_amount": "", **promise_values()}
    values.update(overrides)
    return {k: v.isoformat() if isinstance(v, date) else str(v) for k, v in values.items()}
