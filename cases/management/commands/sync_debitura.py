"""Run one sync with Debitura in the foreground and print what it did."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.sync import cases_children_refresh_batch, cases_sync_full, cases_sync_incremental, team_sync


class Command(BaseCommand):
    help = "Pull cases from Debitura now: incremental by default, --full to walk everything."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="Walk every case and mark those no longer visible."
        )
        parser.add_argument(
            "--children",
            type=int,
            default=0,
            metavar="N",
            help="Also refresh the children (timeline, chat, payments, files) of up to N stale cases.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        members = team_sync()
        self.stdout.write(f"Team: {len(members)} members.")
        run = cases_sync_full() if options["full"] else cases_sync_incremental()
        elapsed = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        self.stdout.write(
            f"{run.get_kind_display()} sync: {run.pages} pages in {elapsed:.1f} s; "
            f"{run.created} new, {run.updated} updated, {run.unchanged} unchanged, {run.gone} gone."
        )
        if run.error:
            raise CommandError(f"The sync stopped: {run.error}")
        if options["children"]:
            done = cases_children_refresh_batch(limit=options["children"])
            self.stdout.write(f"Children refreshed for {done} cases.")
