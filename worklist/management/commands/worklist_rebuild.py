"""`manage.py worklist_rebuild`: derive every case's tasks again (first install, or after a fix)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from worklist.services import BATCH, tasks_rebuild, tasks_show_due


class Command(BaseCommand):
    help = "Refresh the work list's tasks of every case, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=BATCH, help=f"Cases per transaction (default {BATCH})."
        )

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        result = tasks_rebuild(batch=max(1, batch))
        shown = tasks_show_due()
        self.stdout.write(
            f"{result.created} tasks created, {result.updated} updated, {result.deleted} deleted "
            f"({result.batches} batches); {shown} came due."
        )
