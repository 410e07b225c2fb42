"""`manage.py runemulator`: serve the Debitura emulator over HTTP."""

from __future__ import annotations

import time
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from debitura.emulator import Emulator
from debitura.emulator.server import EmulatorServer


class Command(BaseCommand):
    """Serve a seeded, stateful stand-in for Debitura's Collection Partner API."""

    help = "Serve the Debitura Collection Partner API emulator (threaded, in memory)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--cases", type=int, default=500, help="How many seeded cases.")
        parser.add_argument("--seed", type=int, default=42, help="Seed for the data (same seed, same data).")
        parser.add_argument(
            "--api-key", default=None, help="Key clients must send (default: DEBITURA_API_KEY)."
        )
        parser.add_argument("--access-log", action="store_true", help="Log one line per request.")
        parser.add_argument(
            "--team-member",
            action="append",
            default=[],
            metavar='"NAME <EMAIL>"',
            help="Add a member to the agency's team besides the seeded ones (repeatable), "
            "e.g. the portal users who accept cases and chat.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        api_key = options["api_key"] or getattr(settings, "DEBITURA_API_KEY", "") or "demo-api-key"
        started = time.perf_counter()
        team = [_member(value) for value in options["team_member"]]
        emulator = Emulator(cases=options["cases"], seed=options["seed"], api_key=api_key, team=team)
        server = EmulatorServer(emulator, options["host"], options["port"], access_log=options["access_log"])
        self.stdout.write(
            f"Debitura emulator: {options['cases']} cases (seed {options['seed']}) seeded in "
            f"{time.perf_counter() - started:.1f}s, serving {server.url} (control plane under /_emulator/)."
        )
        for name, email in team:
            self.stdout.write(f"Team member: {name} <{email}>" if name else f"Team member: {email}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")


def _member(value: str) -> tuple[str, str]:
    """(name, email) from "Alex Agent <agent@demo.example>" or a bare address."""
    name, email = parseaddr(value)
    if "@" not in email:
        raise CommandError(f'--team-member {value!r}: give "Name <email>" or an e-mail address.')
    return name, email
