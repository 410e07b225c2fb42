"""The inbox ("My work") server time at 1,000 and at 100,000 cases (issue 14: within 1.5x).

Each size runs in a child process on a fresh database (a temporary SQLite file, and a scratch
PostgreSQL database next to BENCH_DATABASE_URL when it is set): the case list's benchmark makes
the cases (bench.case_list.make_cases, with exclusive periods added), the rebuild derives their
tasks (timed: what a first install costs), then the inbox is timed through Django's test Client,
median of REPEAT requests: an agent's (theirs and the unassigned), a supervisor's (everyone's,
one kind, one agent) and a page deep in the deadline order.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.case_list import make_cases
from bench.harness import base_env, best_of, each_backend, run_child

SIZES = tuple(int(n) for n in os.environ.get("BENCH_WORK_SIZES", "1000,100000").split(","))
REPEAT = 15
VIEWS = {
    "agent: mine and unassigned": ("agent", ""),
    "supervisor: everyone": ("supervisor", "whose=all"),
    "supervisor: one kind": ("supervisor", "whose=all&kind=verify_assignment"),
    "supervisor: one agent": ("supervisor", "whose={agent}"),
    "agent: deep page": ("agent", ""),  # the cursor DEEP_PAGES in, filled in by the child
}
DEEP_PAGES = 4


def child(count: int) -> dict[str, Any]:
    """In a child process on its own database: migrate, fill, rebuild the tasks, time the inbox."""
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.roles import AGENT, SUPERVISOR
    from accounts.services import user_create, user_set_role
    from cases.models import Case
    from worklist.models import Task
    from worklist.services import tasks_rebuild

    call_command("migrate", verbosity=0)
    make_cases(count)
    # A third of the open cases have an exclusive period ending in the next 200 days.
    now = timezone.now()
    open_ids = list(Case.objects.filter(lifecycle="Active").values_list("id", flat=True))[::3]
    for offset in range(200):
        ids = open_ids[offset::200]
        for start in range(0, len(ids), 500):
            Case.objects.filter(id__in=ids[start : start + 500]).update(
                exclusive_period_end=now + timedelta(days=offset)
            )
    # Timelines fetched (progress updates are derived only then), and a tenth of the cases given
    # to the agent timed below: every view fills its page of 50 at either size, so the two
    # sizes render the same number of rows.
    Case.objects.update(children_synced_at=now)
    # One case in a hundred with an unread message, as a portal in use has: the navigation's
    # unread total (every page's) reads the partial index of those; left empty, that index has
    # no planner statistics and SQLite counts the whole case table instead (40 ms at 100,000).
    unread = list(Case.objects.order_by("id").values_list("id", flat=True))[5::100]
    for start in range(0, len(unread), 500):
        Case.objects.filter(id__in=unread[start : start + 500]).update(unread_messages=1)
    agent = get_user_model().objects.get(username="sofie")
    all_ids = list(Case.objects.order_by("id").values_list("id", flat=True))[::10]
    for start in range(0, len(all_ids), 500):
        Case.objects.filter(id__in=all_ids[start : start + 500]).update(assigned_to=agent)
    started = time.perf_counter()
    rebuilt = tasks_rebuild()
    rebuild_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    user_set_role(user=agent, role=AGENT)
    supervisor = user_create(username="bench", email="bench@example.com", password="x", role=SUPERVISOR)  # noqa: S106
    clients = {"agent": Client(HTTP_HOST="localhost"), "supervisor": Client(HTTP_HOST="localhost")}
    clients["agent"].force_login(agent)
    clients["supervisor"].force_login(supervisor)  # type: ignore[arg-type]

    query = ""
    for _ in range(DEEP_PAGES):
        html = clients["agent"].get(f"/work/?{query}").content.decode()
        if 'rel="next"' not in html:
            break
        query = html.split('rel="next"')[0].rsplit('href="/work/?', 1)[1].split('"')[0].replace("&amp;", "&")

    figures: dict[str, Any] = {
        "rebuild": rebuild_seconds,
        "tasks": Task.objects.count(),
        "visible": Task.objects.filter(visible=True).count(),
        "created": rebuilt.created,
    }
    for name, (who, view_query) in VIEWS.items():
        url = f"/work/?{query if name.endswith('deep page') else view_query.format(agent=agent.pk)}"
        client = clients[who]

        def get(url: str = url, client: Any = client) -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        get()
        warm, best = best_of(REPEAT, get)
        with CaptureQueriesContext(connection) as captured:
            rows = get().content.decode().count('<tr class="task ')
        figures[name] = {"warm": warm, "best": best, "queries": len(captured), "rows": rows}
    return figures


def _run(database_url: str, var: Path, count: int) -> dict[str, Any]:
    env = base_env(var, DATABASE_URL=database_url)
    return run_child("bench.worklist", env, "child", str(count))


def main() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for label, results in each_backend(_run, SIZES):
        small, big = results[SIZES[0]], results[SIZES[-1]]
        for name in VIEWS:
            a, b = small[name], big[name]
            ratio = b["warm"] / a["warm"]
            rows.append(
                (
                    f"{label}: {name}",
                    f"{a['warm'] * 1000:.1f} ms at {SIZES[0]:,} / {b['warm'] * 1000:.1f} ms at {SIZES[-1]:,}"
                    f" = {ratio:.2f}x{'' if ratio <= 1.5 else ' (over 1.5x)'}; best of each "
                    f"{a['best'] * 1000:.1f} / {b['best'] * 1000:.1f} ms = {b['best'] / a['best']:.2f}x "
                    f"(less shaken by a busy machine); {b['queries']} queries, {a['rows']}/{b['rows']} rows",
                )
            )
        rows.append(
            (
                f"{label}: rebuilding the tasks of {SIZES[-1]:,} cases",
                f"{big['rebuild']:.1f} s ({big['tasks']:,} tasks, {big['visible']:,} visible)",
            )
        )
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    print(json.dumps(child(int(sys.argv[2]))))
elif __name__ == "__main__":
    from bench.harness import table

    print(table(main()))
