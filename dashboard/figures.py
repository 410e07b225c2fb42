"""What the dashboard shows, read from summary rows: a few queries whatever the number of cases.

The lifecycle counts come live from cases_casecount (the case list's tab counts); everything
else from the rows dashboard.summaries rebuilds. Amounts stay per currency: nothing here adds
two currencies together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Sum

from cases.counts import case_counts_and_tests
from cases.models import LifecycleChoices
from dashboard.charts import Chart, Series, bar_chart, column_chart
from dashboard.models import AssignmentWeek, ExclusivityEnding, RecoveredMonth, SlaMonth, SummaryRefresh
from dashboard.periods import Period
from partnerportal.money import money_text

ON_TIME = Series("on_time", "On time", "bar-ok")
LATE = Series("late", "Late", "bar-late")
WAITING = Series("waiting", "Not decided yet", "bar-wait")
RECOVERED = Series("amount", "Recovered", "bar-money")
# The lifecycles agents work, in the case list's tab order; the rest follow when they have cases.
LIFECYCLE_ORDER = [
    LifecycleChoices.PENDING_VERIFICATION,
    LifecycleChoices.ACTIVE,
    LifecycleChoices.PAUSED,
    LifecycleChoices.NEEDS_ADDITIONAL_DETAILS,
    LifecycleChoices.CLOSED,
]
NOBODY = "Unassigned"


@dataclass
class LifecycleRow:
    lifecycle: str
    label: str
    mine: int = 0
    unassigned: int = 0
    all: int = 0


@dataclass
class LifecycleCounts:
    """Visible cases per lifecycle: the user's, nobody's and everyone's (test cases left out)."""

    rows: list[LifecycleRow]
    test_cases: int

    @property
    def total(self) -> LifecycleRow:
        row = LifecycleRow("", "All")
        for r in self.rows:
            row.mine, row.unassigned, row.all = (
                row.mine + r.mine,
                row.unassigned + r.unassigned,
                row.all + r.all,
            )
        return row


def lifecycle_counts_read(*, user: Any) -> LifecycleCounts:
    """The case list's counts (one read of cases_casecount), by lifecycle."""
    counted, test_cases = case_counts_and_tests(include_test=False)
    labels = dict(LifecycleChoices.choices)
    rows: dict[str, LifecycleRow] = {value: LifecycleRow(value, labels[value]) for value in LIFECYCLE_ORDER}
    for (lifecycle, assignee), n in counted.items():
        row = rows.setdefault(lifecycle, LifecycleRow(lifecycle, labels.get(lifecycle, lifecycle)))
        row.all += n
        row.mine += n if assignee == user.pk else 0
        row.unassigned += n if assignee == 0 else 0
    return LifecycleCounts(rows=list(rows.values()), test_cases=test_cases)


@dataclass
class CurrencyRecovered:
    """Money recovered in one currency: per month of the period, and in all."""

    currency: str
    months: list[tuple[date, Decimal, int]]
    total: Decimal
    payments: int
    chart: Chart | None = None

    @property
    def total_text(self) -> str:
        return money_text(self.total, self.currency)


def recovered_read(
    *, period: Period, agent: int | None = None, chart: bool = True
) -> list[CurrencyRecovered]:
    """Recovered per currency and month of the period, on one agent's cases or everyone's."""
    rows = RecoveredMonth.objects.filter(month__gte=period.start)
    if agent is not None:
        rows = rows.filter(agent=agent)
    sums: dict[str, dict[date, tuple[Decimal, int]]] = {}
    grouped = rows.values("currency", "month").annotate(total=Sum("amount"), n=Sum("payments"))
    for row in grouped.order_by("currency", "month"):
        sums.setdefault(row["currency"], {})[row["month"]] = (row["total"], row["n"])
    result = []
    for currency, by_month in sums.items():
        months = [(m, *by_month.get(m, (Decimal(0), 0))) for m in period.months]
        item = CurrencyRecovered(
            currency=currency,
            months=months,
            total=sum((amount for _, amount, _ in months), Decimal(0)),
            payments=sum(n for _, _, n in months),
        )
        if chart and len(months) > 1:
            item.chart = column_chart(
                [
                    (f"{m:%b %Y}" if len(months) > 3 else f"{m:%B}", {"amount": amount})
                    for m, amount, _ in months
                ],
                [RECOVERED],
                width=380,
                height=150,
                label_every=3 if len(months) > 6 else 1,
                fmt=_money_in(currency),
                whole=False,
                title=f"Recovered per month in {currency}",
                chart_id=f"recovered-{currency}",
            )
        result.append(item)
    return sorted(result, key=lambda item: (-item.payments, item.currency))


def _money_in(currency: str) -> Callable[[Decimal], str]:
    return lambda amount: money_text(amount, currency)


@dataclass
class WeekRow:
    week: date
    assigned: int
    on_time: int
    late: int
    waiting: int
    average_hours: float | None


@dataclass
class Assignments:
    """New assignments per week of the period and how fast they were verified."""

    weeks: list[WeekRow]
    chart: Chart
    assigned: int
    on_time: int
    late: int
    waiting: int
    average_hours: float | None


def assignments_read(*, period: Period) -> Assignments:
    """The weeks of the period with their assignments (zero where none) and decision times."""
    stored = {row.week: row for row in AssignmentWeek.objects.filter(week__gte=period.weeks[0])}
    weeks = []
    for monday in period.weeks:
        row = stored.get(monday) or AssignmentWeek(week=monday)
        average = row.decided_seconds / row.decided / 3600 if row.decided else None
        weeks.append(WeekRow(monday, row.assigned, row.on_time, row.late, row.waiting, average))
    chart = column_chart(
        [
            (
                f"{w.week:%d %b}",
                {"on_time": Decimal(w.on_time), "late": Decimal(w.late), "waiting": Decimal(w.waiting)},
            )
            for w in weeks
        ],
        [ON_TIME, LATE, WAITING],
        width=520,
        height=180,
        label_every=max(1, -(-len(weeks) // 8)),
        title="New assignments per week: verified on time, late, not decided yet",
        chart_id="assignments",
    )
    decided = sum(stored[w.week].decided for w in weeks if w.week in stored)
    seconds = sum(stored[w.week].decided_seconds for w in weeks if w.week in stored)
    return Assignments(
        weeks=weeks,
        chart=chart,
        assigned=sum(w.assigned for w in weeks),
        on_time=sum(w.on_time for w in weeks),
        late=sum(w.late for w in weeks),
        waiting=sum(w.waiting for w in weeks),
        average_hours=seconds / decided / 3600 if decided else None,
    )


@dataclass
class SlaRow:
    agent: str
    on_time: int
    late: int

    @property
    def percent(self) -> int | None:
        counted = self.on_time + self.late
        return round(self.on_time * 100 / counted) if counted else None


@dataclass
class SlaKind:
    """One expectation (verify, reply, update): on time and late per agent, and a chart of them."""

    kind: str
    label: str
    rows: list[SlaRow]
    total: SlaRow
    chart: Chart | None = None


def sla_read(*, period: Period) -> list[SlaKind]:
    """On time and late per expectation and agent over the period (one read, one for the names)."""
    rows = (
        SlaMonth.objects.filter(month__gte=period.start)
        .values("kind", "agent")
        .annotate(on_time=Sum("on_time"), late=Sum("late"))
        .order_by()
    )
    by_kind: dict[str, dict[int, tuple[int, int]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], {})[row["agent"]] = (row["on_time"], row["late"])
    names = agent_names({agent for agents in by_kind.values() for agent in agents})
    result = []
    for kind, label in SlaMonth.Kind.choices:
        agents = by_kind.get(kind, {})
        lines = sorted(
            (SlaRow(names.get(agent, NOBODY), on_time, late) for agent, (on_time, late) in agents.items()),
            key=lambda r: (r.agent == NOBODY, r.agent.lower()),
        )
        total = SlaRow("All", sum(r.on_time for r in lines), sum(r.late for r in lines))
        chart = None
        if lines:
            chart = bar_chart(
                [(r.agent, {"on_time": Decimal(r.on_time), "late": Decimal(r.late)}) for r in lines],
                [ON_TIME, LATE],
                width=460,
                title=f"{label}: on time and late per agent",
                chart_id=f"sla-{kind}",
            )
        result.append(SlaKind(kind=kind, label=label, rows=lines, total=total, chart=chart))
    return result


@dataclass
class Expiring:
    """Open cases whose exclusive period ends in the next 30 days: how many, and the first few."""

    count: int
    cases: list[Any] = field(default_factory=list)


def exclusivity_read(*, limit: int = 8) -> Expiring:
    """The soonest exclusivity ends (with their case and agent's name) and how many there are."""
    soonest = list(ExclusivityEnding.objects.order_by("ends_at")[:limit])
    names = agent_names({row.agent for row in soonest})
    for row in soonest:
        row.agent_name = names.get(row.agent, "")  # type: ignore[attr-defined]
    return Expiring(count=ExclusivityEnding.objects.count(), cases=soonest)


def summaries_refreshed() -> SummaryRefresh | None:
    """When the summary rows were last rebuilt (None: never yet)."""
    return SummaryRefresh.objects.filter(id=1).first()


def agent_names(ids: set[int]) -> dict[int, str]:
    """Display names of the users with these ids (one query; 0, nobody, is left to the caller)."""
    users = (
        get_user_model()
        .objects.filter(pk__in=[i for i in ids if i])
        .only("username", "first_name", "last_name")
    )
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def hours_text(hours: float | None) -> str:
    """Average business time in words: "3.5 h", "1 d 2 h" (business days of 24 h, as cases.sla)."""
    if hours is None:
        return "\u2013"
    if hours < 24:
        return f"{hours:.1f} h"
    days, rest = divmod(round(hours), 24)
    return f"{days} d {rest} h" if rest else f"{days} d"
