"""The outbox relay against the bare client (the Cockpit issue's "Fresh without waste").

A child process on a fresh database syncs the emulator's cases, queues ACTIONS agents' actions
through the services (nothing relayed yet), then drains them with the relay and counts the
requests the emulator saw; the same actions are then posted with the bare gateway client, which
is the least any relay can do. Two sets: notes only (the issue's measure) and a mix of notes,
chat messages, payments, fee changes and uploads, each BENCH_RELAY_ROUNDS times, the relay and
the bare client taking turns. What the relay leaves for later (the next incremental sync and the
children queue after it) is drained and counted too.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import API_KEY, base_env, command, control, emulator, requests_made, run_child

CASES = int(os.environ.get("BENCH_RELAY_CASES", 500))
ACTIONS = int(os.environ.get("BENCH_RELAY_ACTIONS", 300))
ON_CASES = int(os.environ.get("BENCH_RELAY_ON_CASES", 100))  # the actions spread over this many cases
ROUNDS = int(os.environ.get("BENCH_RELAY_ROUNDS", 3))
MIX = ("note", "chat", "payment", "fees", "file")
SETS = {"notes": ("note",), "mixed": MIX}


def _actions(kinds: tuple[str, ...], case_ids: list[str], start: int) -> list[tuple[str, str, int]]:
    """(kind, case id, number): ACTIONS actions, round robin over the cases and kinds."""
    return [
        (kinds[n % len(kinds)], case_ids[n % len(case_ids)], start + n) for n in range(ACTIONS)
    ]  # fmt: skip


def _queue(plan: list[tuple[str, str, int]], agent: Any) -> None:
    from django.core.files.base import ContentFile

    from cases import actions
    from cases.models import Case
    from documents.actions import case_file_upload
    from payments import actions as payment_actions

    cases = {str(c.pk): c for c in Case.objects.filter(pk__in={case_id for _, case_id, _ in plan})}
    yesterday = date.today() - timedelta(days=1)
    for kind, case_id, n in plan:
        case = cases[case_id]
        if kind == "note":
            actions.case_note_add(case=case, actor=agent, description=f"bench note {n}")
        elif kind == "chat":
            actions.case_chat_send(case=case, actor=agent, message=f"bench chat {n}")
        elif kind == "payment":
            payment_actions.payment_record(
                case=case,
                actor=agent,
                date=yesterday,
                amount=Decimal(1),
                recipient="CollectionPartner",
                confirmed=True,  # the same amount again on a case: not a question for a benchmark
            )
        elif kind == "fees":
            actions.case_fees_update(
                case=case,
                actor=agent,
                interest_fees=Decimal(n % 50 + 1),
                reminder_fees=Decimal("1.50"),
                collection_fees=Decimal("2.50"),
            )
        else:
            case_file_upload(
                case=case, actor=agent, file=ContentFile(f"bench file {n}".encode(), name=f"bench-{n}.txt")
            )


def _bare(plan: list[tuple[str, str, int]], client: Any, user_email: str) -> None:
    """The same actions straight through the gateway client: one request each, nothing stored."""
    import io
    import uuid

    from debitura.enums import PaymentRecipient
    from debitura.types import PaymentInput

    yesterday = date.today() - timedelta(days=1)
    for kind, case_id, n in plan:
        if kind == "note":
            client.create_note(case_id, description=f"bare note {n}")
        elif kind == "chat":
            client.send_chat(
                case_id, message=f"bare chat {n}", user_email=user_email, idempotency_key=uuid.uuid4().hex
            )
        elif kind == "payment":
            recipient = PaymentRecipient("CollectionPartner")
            payment = PaymentInput(date=yesterday, amount=Decimal(1), recipient=recipient)
            client.create_payment(case_id, payment, idempotency_key=uuid.uuid4().hex)
        elif kind == "fees":
            client.update_fees(
                case_id,
                interest_fees=Decimal(n % 50 + 1),
                reminder_fees=Decimal("1.50"),
                collection_fees=Decimal("2.50"),
            )
        else:
            client.upload_file(case_id, io.BytesIO(f"bare file {n}".encode()), file_name=f"bare-{n}.txt")


def child(url: str) -> dict[str, Any]:
    """In a child process on its own database: sync, then per set queue, relay, post bare, drain."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    import outbox.tasks
    from cases.models import Case, TeamMember
    from cases.sync import cases_children_refresh_batch, cases_sync_incremental
    from debitura.client import DebituraClient
    from debitura.throttle import NoThrottle
    from outbox.models import OutboxAction
    from outbox.relay import outbox_relay_due

    # Nothing is handed to a broker: this process relays what it queued, in the foreground.
    outbox.tasks.relay_outbox.delay = lambda *args, **kwargs: None  # type: ignore[method-assign,assignment]
    outbox.tasks.relay_outbox.apply_async = lambda *args, **kwargs: None  # type: ignore[method-assign,assignment]
    client = DebituraClient(url, API_KEY, throttle=NoThrottle(), timeout=60)
    run = cases_sync_incremental(client=client)
    assert not run.error, run.error
    # As after the first import: every case has its children (agents act on cases they opened).
    Case.objects.update(children_stale=False, children_synced_at=timezone.now())
    member = next(user for user in client.list_users() if user.email)
    email = str(member.email)
    agent = get_user_model().objects.create(username="bench-agent", email=email)
    TeamMember.objects.create(id=member.id, name=member.name or "", email=email, user=agent)
    active = [
        str(pk)
        for pk in Case.objects.filter(lifecycle="Active", is_test_case=False)
        .order_by("id")
        .values_list("pk", flat=True)[:ON_CASES]
    ]

    def total() -> int:
        return sum(requests_made(url).values())

    figures: dict[str, Any] = {"cases": len(active)}
    done = 0
    for number, (name, kinds) in enumerate(SETS.items()):
        rounds: list[dict[str, float]] = []
        for turn in range(ROUNDS):
            # The relay and the bare client alternate, so a burst of load elsewhere hits both alike.
            plan = _actions(kinds, active, (number * ROUNDS + turn) * 10_000)
            _queue(plan, agent)
            before, started, cpu = total(), time.perf_counter(), time.process_time()
            report = outbox_relay_due(client=client, limit=10**6)
            seconds, relay_cpu = time.perf_counter() - started, time.process_time() - cpu
            relayed = total() - before
            done += len(plan)
            assert OutboxAction.objects.filter(state="done").count() == done, str(report)
            # What the relay left for later: the next sync sees the cases changed, and the
            # children queue fetches what the relay did not read back.
            before = total()
            cases_sync_incremental(client=client)
            while cases_children_refresh_batch(client=client, limit=100):
                pass
            later = total() - before
            started, cpu = time.perf_counter(), time.process_time()
            _bare(plan, client, email)
            bare, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
            rounds.append({
                "seconds": seconds, "cpu": relay_cpu, "requests": relayed, "later": later,
                "bare": bare, "bare_cpu": bare_cpu,
            })  # fmt: skip
        figures[name] = rounds
    return figures


def main() -> list[tuple[str, str]]:
    from bench.sync import scratch_database

    with emulator(CASES) as url, tempfile.TemporaryDirectory() as var, scratch_database() as database:
        control(url, "POST", "/rate-limits", perMinute=10**7, perHour=10**8, perDay=10**9)
        extra = {"DATABASE_URL": database} if database else {}
        env = base_env(Path(var), DEBITURA_BASE_URL=url, MEDIA_ROOT=str(Path(var) / "media"), **extra)
        figures = run_child("bench.relay", env, "child", url)
    rows = []
    for name in SETS:
        rounds = figures[name]

        def median(key: str, rounds: list[dict[str, float]] = rounds) -> float:
            return statistics.median(r[key] for r in rounds)

        ratios = [r["seconds"] / r["bare"] for r in rounds]
        label = "notes" if name == "notes" else "mixed actions (note, chat, payment, fees, upload)"
        rows.append((
            f"{ACTIONS} {label} on {figures['cases']} cases",
            f"{median('requests') / ACTIONS:.2f} requests per action; relay {median('seconds'):.2f} s "
            f"(CPU {median('cpu'):.2f} s), bare client {median('bare'):.2f} s "
            f"(CPU {median('bare_cpu'):.2f} s); ratio {statistics.median(ratios):.2f} "
            f"(median of {ROUNDS}: {', '.join(f'{r:.2f}' for r in ratios)}); "
            f"then the sync and the children queue: {median('later') / ACTIONS:.2f} requests per action",
        ))  # fmt: skip
    return rows


if __name__ == "__main__":
    command(child, main)
