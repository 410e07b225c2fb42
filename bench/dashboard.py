"""The dashboard's server time at 1,000 and at 100,000 cases, for an agent and for a supervisor.

Each size runs in a child process on a fresh SQLite database (and a scratch PostgreSQL database
next to BENCH_DATABASE_URL when it is set): cases with payments, chat and notes in proportion
(a busy agency's activity grows with its cases), then the summary rows are rebuilt once
(dashboard.summaries, the beat task's work, timed apart) and the page is timed through Django's
test Client, median of REPEAT requests, for this month and the last 12 months. The page reads
summary rows and the trigger-kept case counts, so its time should not follow the case count.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import base_env, best_of, each_backend, run_child

SIZES = tuple(int(n) for n in os.environ.get("BENCH_DASHBOARD_SIZES", "1000,100000").split(","))
REPEAT = 15
PERIODS = ("month", "12m")
LIFECYCLES = ["PendingVerification", "Active", "Active", "Active", "Paused", "Closed", "Closed"]
CURRENCIES = ["EUR", "EUR", "DKK", "USD", "GBP", "JPY"]
AGENTS = ("sofie", "mads", "emil", "ida", "anna")
SPAN_MINUTES = 2 * 365 * 24 * 60  # cases were assigned over the last two years


def make_data(count: int) -> dict[str, int]:
    """`count` cases with about 0.4 payments, 1.5 chat messages and 1 note each, over two years."""
    from django.utils import timezone

    from accounts.roles import AGENT
    from accounts.services import user_create
    from cases.models import Case, ChatMessage, TimelineItem
    from payments.models import Payment

    agents: list[Any] = [
        user_create(username=name, email=f"{name}@example.com", password="x", role=AGENT)  # noqa: S106
        for name in AGENTS
    ]
    rng = random.Random(42)
    now = timezone.now()
    cases: list[Case] = []
    payments: list[Payment] = []
    chat: list[ChatMessage] = []
    notes: list[TimelineItem] = []
    made = {"payments": 0, "chat": 0, "notes": 0}

    def flush() -> None:
        Case.objects.bulk_create(cases)
        Payment.objects.bulk_create(payments)
        ChatMessage.objects.bulk_create(chat)
        TimelineItem.objects.bulk_create(notes)
        made["payments"] += len(payments)
        made["chat"] += len(chat)
        made["notes"] += len(notes)
        for rows in (cases, payments, chat, notes):
            rows.clear()

    for index in range(count):
        created = now - timedelta(minutes=rng.randint(0, SPAN_MINUTES))
        lifecycle = rng.choice(LIFECYCLES)
        started = (
            created + timedelta(minutes=rng.randint(10, 3000)) if lifecycle != "PendingVerification" else None
        )
        finished = (
            started + timedelta(days=rng.randint(1, 200)) if started and lifecycle == "Closed" else None
        )
        if finished and finished > now:
            finished = now
        currency = rng.choice(CURRENCIES)
        amount = Decimal(rng.randint(100, 500_000)) / 100
        case = Case(
            id=uuid.UUID(int=rng.getrandbits(128)),
            reference=f"{index:08X}",
            lifecycle=lifecycle,
            currency=currency,
            gross_amount=amount,
            remainder=amount,
            debtor_name=f"Debtor {index}",
            date_created=created,
            date_collection_started=started,
            date_finished=finished,
            exclusive_period_end=started + timedelta(days=182) if started else None,
            remote_updated_at=created,
            assigned_to=rng.choice(agents) if rng.random() < 0.6 else None,
            search_text=f"{index:08x} debtor {index}",
        )
        cases.append(case)
        if started:
            end = finished or now
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                paid = started + (end - started) * rng.random()
                payments.append(
                    Payment(case=case, date=paid.date(), amount=(amount / 4).quantize(Decimal("0.01")),
                            currency=currency, state=rng.choice(["confirmed"] * 8 + ["pending", "failed"]))
                )  # fmt: skip
            when = started
            for position in range(rng.randint(0, 3)):
                when += timedelta(hours=rng.randint(1, 24 * 20))
                if when > end:
                    break
                chat.append(
                    ChatMessage(
                        id=uuid.UUID(int=rng.getrandbits(128)),
                        case=case,
                        date_created=when,
                        role=position % 2,
                    )
                )
            when = started
            for position in range(rng.randint(0, 2)):
                when += timedelta(days=rng.randint(10, 45))
                if when > end:
                    break
                notes.append(TimelineItem(case=case, position=position, date=when, type="Note", title="Note"))
        if len(cases) == 5_000:
            flush()
    flush()
    return made


def child(count: int) -> dict[str, Any]:
    """In a child process on its own database: migrate, fill, rebuild the summaries, time the page."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.roles import SUPERVISOR
    from accounts.services import user_create
    from dashboard.summaries import dashboard_summaries_refresh

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    made = make_data(count)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    filled = time.perf_counter() - started
    started = time.perf_counter()
    dashboard_summaries_refresh()
    refresh = time.perf_counter() - started

    supervisor = user_create(username="bench", email="bench@example.com", password="x", role=SUPERVISOR)  # noqa: S106
    users = {"agent": get_user_model().objects.get(username=AGENTS[0]), "supervisor": supervisor}
    figures: dict[str, Any] = {"filled": filled, "refresh": refresh, **made}
    for role, user in users.items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)  # type: ignore[arg-type]
        for period in PERIODS:

            def get(client: Client = client, period: str = period) -> None:
                response = client.get("/", {"period": period})
                assert response.status_code == 200, response.status_code

            get()
            median, _ = best_of(REPEAT, get)
            cpu = _cpu_median(get)
            with CaptureQueriesContext(connection) as captured:
                get()
            figures[f"{role}, {period}"] = {"time": median, "cpu": cpu, "queries": len(captured)}
    return figures


def _cpu_median(work: Any) -> float:
    """The median CPU time of the process over REPEAT runs: SQLite runs in the process, so this is
    the page's own work, which other processes on a shared machine do not stretch as they do
    wall time."""
    times = []
    for _ in range(REPEAT):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return sorted(times)[len(times) // 2]


def _run(database_url: str, var: Path, count: int) -> dict[str, Any]:
    env = base_env(var, DATABASE_URL=database_url)
    return run_child("bench.dashboard", env, "child", str(count))


def main() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for label, results in each_backend(_run, SIZES):
        small, big = results[SIZES[0]], results[SIZES[-1]]
        for role in ("agent", "supervisor"):
            for period in PERIODS:
                a, b = small[f"{role}, {period}"], big[f"{role}, {period}"]
                rows.append(
                    (
                        f"{label}: {role}, {period}",
                        f"{a['time'] * 1000:.1f} ms at {SIZES[0]:,} / {b['time'] * 1000:.1f} ms at "
                        f"{SIZES[-1]:,} = {b['time'] / a['time']:.2f}x (CPU {a['cpu'] * 1000:.1f} / "
                        f"{b['cpu'] * 1000:.1f} ms = {b['cpu'] / a['cpu']:.2f}x); "
                        f"{a['queries']} / {b['queries']} queries",
                    )
                )
        rows.append(
            (
                f"{label}: rebuilding the summaries (beat task)",
                f"{small['refresh']:.2f} s at {SIZES[0]:,} / {big['refresh']:.1f} s at {SIZES[-1]:,} "
                f"({big['payments']:,} payments, {big['chat']:,} chat messages, {big['notes']:,} notes)",
            )
        )
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    print(json.dumps(child(int(sys.argv[2]))))
elif __name__ == "__main__":
    from bench.harness import table

    print(table(main()))
