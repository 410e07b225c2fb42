"""Drain the outbox in the foreground: `manage.py relay_outbox [--loop] [--interval S]`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Min

from outbox.models import OutboxAction
from outbox.relay import RelayReport, outbox_relay_due


class Command(BaseCommand):
    help = "Send due outbox actions to Debitura until none is due (or keep polling with --loop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep polling for new or retried actions.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between polls with --loop.")
        parser.add_argument("--batch", type=int, default=100, help="Actions per pass.")

    def handle(self, *args: Any, **options: Any) -> None:
        total = RelayReport()
        try:
            while True:
                report = outbox_relay_due(limit=options["batch"])
                for outcome, count in report.counts.items():
                    total.counts[outcome] = total.counts.get(outcome, 0) + count
                if report.attempted:
                    self.stdout.write(f"Relayed {report}.")
                    continue
                if not options["loop"]:
                    break
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        self.stdout.write(self.style.SUCCESS(f"Done: {total}.") + self._waiting())

    def _waiting(self) -> str:
        waiting = OutboxAction.objects.filter(
            state__in=[OutboxAction.State.PENDING, OutboxAction.State.SENDING]
        ).aggregate(count=Count("id"), next=Min("next_attempt_at"))
        failed = OutboxAction.objects.filter(state=OutboxAction.State.FAILED).count()
        text = f" {failed} failed in total." if failed else ""
        if waiting["count"]:
            text += (
                f" {waiting['count']} still waiting; the next is due at {waiting['next']:%Y-%m-%d %H:%M:%S}."
            )
        return text
