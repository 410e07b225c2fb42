"""Run the go-live check against DEBITURA_BASE_URL and print each capability's outcome.

Exits non-zero when any step failed. Needs no worker: the check relays its own actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from golive.check import golive_check_run
from golive.models import Outcome
from golive.webhook import DELIVERY_WAIT_SECONDS

_MARK: dict[str, str] = {Outcome.PASSED: "passed ", Outcome.FAILED: "FAILED ", Outcome.SKIPPED: "skipped"}


class Command(BaseCommand):
    help = (
        "Make tagged test cases at Debitura (DEBITURA_BASE_URL), work them with the portal's own code, "
        "report each capability, and delete them again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user",
            help="Act as this portal user (a member of the agency's team at Debitura); "
            "default: the first active superuser.",
        )
        parser.add_argument(
            "--webhook-wait",
            type=float,
            default=DELIVERY_WAIT_SECONDS,
            metavar="SECONDS",
            help="How long to wait for the test webhook to arrive (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects.filter(is_active=True)
        if options["user"]:
            actor = users.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")
        else:
            actor = users.filter(is_superuser=True).order_by("pk").first()
            if actor is None:
                raise CommandError("No active superuser to act as: pass --user.")
        self.stdout.write(f"Go-live check as {actor.get_username()}; test cases are deleted when it ends.")
        run = golive_check_run(actor=actor, webhook_wait=options["webhook_wait"])
        self.stdout.write(f"Against {run.base_url}, tag {run.tag}:")
        for step in run.steps.all():
            self.stdout.write(
                f"  {_MARK.get(step.outcome, step.outcome)}  {step.label:<55} {step.duration_ms:>6} ms"
            )
            if step.detail:
                self.stdout.write(f"           {step.detail}")
        total = run.duration_seconds or 0.0
        if run.outcome == Outcome.FAILED:
            failed = run.steps.filter(outcome=Outcome.FAILED).count()
            raise CommandError(f"Go-live check failed: {failed} step(s) failed ({total:.1f} s).")
        self.stdout.write(self.style.SUCCESS(f"Go-live check passed ({total:.1f} s)."))
