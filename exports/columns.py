"""The columns a case export can have: what each shows and how it is read from one row.

A row is the tuple of FIELDS read with values_list (one query, no model instances); each column
turns it into a cell value: text, a Decimal amount (with the currency in its own column), a
date or a yes/no. The order here is the order in the file: the amounts sit just before the
currency, so in a spreadsheet the currency is always in the column beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cases.models import CloseCodeChoices, LifecycleChoices

# What one export row reads from the case table (and the assignee's name through its join).
FIELDS = (
    "id", "reference", "creditor_reference", "partner_reference", "debtor_name", "debtor_country_code",
    "creditor_name", "gross_amount", "interest_fees", "reminder_fees", "collection_fees", "remainder",
    "currency", "lifecycle", "close_code", "engagement_phase", "date_created", "claim_date", "due_date",
    "date_finished", "remote_updated_at", "exclusive_period_end", "assigned_to__username",
    "assigned_to__first_name", "assigned_to__last_name", "debitura_assignee_name", "is_test_case",
)  # fmt: skip
AT = {name: index for index, name in enumerate(FIELDS)}

TEXT, MONEY, DATE = "text", "money", "date"
LIFECYCLES = dict(LifecycleChoices.choices)
CLOSE_CODES = dict(CloseCodeChoices.choices)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str
    value: Callable[[Sequence[Any]], Any]
    default: bool = True


def _field(name: str) -> Callable[[Sequence[Any]], Any]:
    index = AT[name]
    return lambda row: row[index]


def _label(name: str, labels: dict[str, str]) -> Callable[[Sequence[Any]], str]:
    # Debitura's words ("Pending Verification"), as the list shows them, not the enum names.
    index = AT[name]
    return lambda row: labels.get(row[index], row[index])


def _day(name: str) -> Callable[[Sequence[Any]], date | None]:
    index = AT[name]

    def day(row: Sequence[Any]) -> date | None:
        value: datetime | None = row[index]
        # A day in the portal's time zone, as the list shows it (astimezone: localdate's checks
        # cost more than the conversion, five dates a row, a hundred thousand rows).
        return value.astimezone(timezone.get_current_timezone()).date() if value is not None else None

    return day


def _paid(row: Sequence[Any]) -> Decimal:
    # As the case page says it: what was owed (principal and added fees) less what remains.
    owed = sum((row[AT[name]] or Decimal(0) for name in MONEY_OWED), Decimal(0))
    return owed - row[AT["remainder"]]


MONEY_OWED = ("gross_amount", "interest_fees", "reminder_fees", "collection_fees")


def _fees(row: Sequence[Any]) -> Decimal:
    return sum((row[AT[name]] or Decimal(0) for name in MONEY_OWED[1:]), Decimal(0))


def _assignee(row: Sequence[Any]) -> str:
    # The portal's assignee, else Debitura's (not linked to a portal user), as the list shows.
    full = f"{row[AT['assigned_to__first_name']] or ''} {row[AT['assigned_to__last_name']] or ''}".strip()
    return full or row[AT["assigned_to__username"]] or row[AT["debitura_assignee_name"]] or ""


COLUMNS: tuple[Column, ...] = (
    Column("reference", "Debitura reference", TEXT, _field("reference")),
    Column("creditor_reference", "Creditor reference", TEXT, _field("creditor_reference")),
    Column("partner_reference", "Agency reference", TEXT, _field("partner_reference")),
    Column("debtor", "Debtor", TEXT, _field("debtor_name")),
    Column("debtor_country", "Debtor country", TEXT, _field("debtor_country_code")),
    Column("creditor", "Creditor", TEXT, _field("creditor_name")),
    Column("lifecycle", "Lifecycle", TEXT, _label("lifecycle", LIFECYCLES)),
    Column("close_code", "Close code", TEXT, _label("close_code", CLOSE_CODES)),
    Column("phase", "Engagement phase", TEXT, _field("engagement_phase"), default=False),
    Column("amount", "Claim amount", MONEY, _field("gross_amount")),
    Column("fees", "Added fees", MONEY, _fees, default=False),
    Column("paid", "Paid", MONEY, _paid),
    Column("remainder", "Remainder", MONEY, _field("remainder")),
    Column("currency", "Currency", TEXT, _field("currency")),
    Column("created", "Created", DATE, _day("date_created")),
    Column("claim_date", "Claim date", DATE, _day("claim_date")),
    Column("due", "Due", DATE, _day("due_date")),
    Column("finished", "Finished", DATE, _day("date_finished")),
    Column("updated", "Updated at Debitura", DATE, _day("remote_updated_at"), default=False),
    Column("assigned", "Assigned to", TEXT, _assignee),
    Column("exclusive_end", "Exclusive until", DATE, _day("exclusive_period_end")),
    Column("test", "Test case", TEXT, lambda row: "yes" if row[AT["is_test_case"]] else "", default=False),
    Column("case_id", "Debitura case id", TEXT, lambda row: str(row[AT["id"]]), default=False),
)  # fmt: skip
BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_KEYS = tuple(column.key for column in COLUMNS if column.default)


def columns_chosen(keys: Sequence[str] | None) -> list[Column]:
    """The columns for `keys` in the file's order (unknown keys dropped; none: the defaults).

    An amount never goes out without its currency: picking one brings the currency along.
    """
    wanted = {key for key in keys or () if key in BY_KEY} or set(DEFAULT_KEYS)
    if any(BY_KEY[key].kind == MONEY for key in wanted):
        wanted.add("currency")
    return [column for column in COLUMNS if column.key in wanted]
