"""The case list's server time at 1,000 and at 100,000 cached cases (the Agent workspace issue).

Each size runs in a child process on a fresh database (a temporary SQLite file, and a scratch
PostgreSQL database next to BENCH_DATABASE_URL when it is set): cases are made with bulk_create,
then the list view is timed through Django's test Client, median of REPEAT requests, for a plain
list, a filtered one, searches, sorts and a deep page, both as agents use it and with Django's
cache cleared before every request (the first visit: the assignee list is read again; the tab
counts are never cached, they come live from cases_casecount).
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

SIZES = tuple(int(n) for n in os.environ.get("BENCH_LIST_SIZES", "1000,100000").split(","))
REPEAT = 15
QUERIES = {
    "plain": "",
    "filtered": "tab=active&currency=EUR&amount_min=1000&sort=-remainder",
    "searched": "q=hansen",  # in a tenth of the cases
    "searched, one email": "q=debtor567@example.com",  # in one case at either size
    "sorted by due date": "sort=due",  # a tenth without one: the NULL block sorts first on SQLite
    "sorted by phase": "sort=-phase",  # three values: the id decides almost every row's place
    "sorted by assignee": "sort=assigned",  # a join to auth_user; a third assigned to five agents
    "deep page": "",  # filled in by the child: the cursor 40 pages in
}
LIFECYCLES = [
    "PendingVerification", "Active", "Active", "Active", "Paused", "NeedsAdditionalDetails", "Closed",
]  # fmt: skip
NAMES = ["Hansen", "Jensen", "Nielsen", "Schmidt", "Müller", "García", "Rossi", "Dubois", "Smith", "Tanaka"]
FIRST = ["Anna", "Peter", "Maria", "Lars", "Sofie", "Jonas", "Eva", "Karl", "Lea", "Emil"]


def make_cases(count: int) -> None:
    """`count` varied cases, written in batches (the sync's own path is benchmarked elsewhere)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cases.models import Case

    names = ("sofie", "mads", "emil", "ida", "anna")
    agents = [get_user_model().objects.create(username=name) for name in names]
    rng = random.Random(42)
    now = timezone.now()
    batch: list[Case] = []
    for index in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(NAMES)} {index}"
        reference = f"{index:08X}"
        partner = f"AG-{index:06d}" if rng.random() < 0.7 else ""
        email = f"debtor{index}@example.com"
        amount = Decimal(rng.randint(100, 500_000)) / 100
        batch.append(
            Case(
                id=uuid.UUID(int=rng.getrandbits(128)),
                reference=reference,
                partner_reference=partner,
                lifecycle=rng.choice(LIFECYCLES),
                currency=rng.choice(["EUR", "EUR", "DKK", "USD", "GBP", "JPY"]),
                gross_amount=amount,
                remainder=amount * Decimal(rng.random()).quantize(Decimal("0.01")),
                debtor_name=name,
                debtor_email=email,
                debtor_country_code=rng.choice(["DK", "DE", "ES", "GB", "US"]),
                debtor_type=rng.choice(["Company", "Person"]),
                engagement_phase=rng.choice(["Pre-legal", "Legal", "Enforcement"]),
                creditor_name=f"Creditor {index % 300}",
                date_created=now - timedelta(minutes=rng.randint(0, 2_000_000)),
                remote_updated_at=now - timedelta(seconds=rng.randint(0, 50_000_000)),
                due_date=now + timedelta(days=rng.randint(-400, 60)) if rng.random() < 0.9 else None,
                is_test_case=rng.random() < 0.01,
                assigned_to=rng.choice(agents) if rng.random() < 0.3 else None,
                search_text=" | ".join(filter(None, [reference, partner, name, email])).lower(),
            )
        )
        if len(batch) == 5_000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)


def child(count: int) -> dict[str, Any]:
    """In a child process on its own database: migrate, fill, time the list."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.roles import SUPERVISOR
    from accounts.services import user_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    make_cases(count)
    # Planner statistics, as a database in use has them (autovacuum; SQLite's PRAGMA optimize):
    # without them SQLite reads "gone_at IS NULL" through its index and sorts every row. On
    # PostgreSQL the vacuum also merges the trigram index's pending list, as autovacuum would.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case" if connection.vendor == "postgresql" else "ANALYZE")
    filled = time.perf_counter() - started
    user = user_create(username="bench", email="bench@example.com", password="x", role=SUPERVISOR)  # noqa: S106
    client = Client(HTTP_HOST="localhost")  # outside the test runner "testserver" is not allowed
    client.force_login(user)  # type: ignore[arg-type]

    # A cursor 40 pages into the plain list: the keyset link the list itself hands out.
    query = ""
    for _ in range(40):
        html = client.get(f"/cases/?{query}").content.decode()
        query = html.split('rel="next"')[0].rsplit('href="/cases/?', 1)[1].split('"')[0].replace("&amp;", "&")
    queries = {**QUERIES, "deep page": query}

    figures: dict[str, Any] = {"filled": filled}
    for name, query in queries.items():
        url = f"/cases/?{query}"

        def get(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def first_visit(url: str = url) -> None:
            cache.clear()
            get(url)

        get()
        warm, _ = best_of(REPEAT, get)
        cold, _ = best_of(REPEAT, first_visit)
        with CaptureQueriesContext(connection) as captured:
            cache.clear()
            get()
        figures[name] = {"warm": warm, "cold": cold, "queries": len(captured)}
    return figures


def _run(database_url: str, var: Path, count: int) -> dict[str, Any]:
    env = base_env(var, DATABASE_URL=database_url)
    return run_child("bench.case_list", env, "child", str(count))


def main() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for label, results in each_backend(_run, SIZES):
        small, big = results[SIZES[0]], results[SIZES[-1]]
        for name in QUERIES:
            a, b = small[name], big[name]
            rows.append(
                (
                    f"{label}: {name}",
                    f"{a['warm'] * 1000:.1f} ms at {SIZES[0]:,} / {b['warm'] * 1000:.1f} ms at {SIZES[-1]:,}"
                    f" = {b['warm'] / a['warm']:.2f}x; first visit {a['cold'] * 1000:.1f} / "
                    f"{b['cold'] * 1000:.1f} ms = {b['cold'] / a['cold']:.2f}x; {b['queries']} queries",
                )
            )
        rows.append((f"{label}: making {SIZES[-1]:,} cases", f"{big['filled']:.1f} s (bulk_create)"))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    print(json.dumps(child(int(sys.argv[2]))))
