"""Cleaning up after a check: the test cases deleted at Debitura by tag, then their local copies.

The local copy of a test case goes with everything hanging on it: its outbox rows (kept for
every real case as the audit of who did what, but these are the check's own, and the run
records what they did), files waiting to be sent, and the webhook deliveries about it.
A run whose process was killed never reached its cleanup: the next run does it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cases.models import Case, WebhookEvent
from debitura.client import DebituraClient
from debitura.errors import NotFound
from golive.models import GoLiveRun, GoLiveStep, Outcome
from golive.steps import StepFailed, StepResult
from outbox.models import OutboxAction

log = logging.getLogger(__name__)

# A run still "running" after this long was killed (a check takes a minute at most).
ABANDONED_AFTER = timedelta(hours=1)


def golive_remote_delete(*, tag: str, case_ids: Sequence[str], client: DebituraClient) -> StepResult:
    """Hard-delete the run's test cases at Debitura by tag, and check that none is left."""
    client.delete_test_cases(tag=tag)
    left = []
    for case_id in case_ids:
        try:
            client.get_case(case_id)
        except NotFound:
            continue
        left.append(case_id)
    if left:
        raise StepFailed(f"DELETE /test/cases?tag={tag} answered, but Debitura still has {', '.join(left)}.")
    return f"Deleted at Debitura by tag {tag}: {len(case_ids)} test cases, none left.", None


def golive_local_remove(*, case_ids: Sequence[str]) -> int:
    """Remove the local copies of the run's test cases; returns how many cases went."""
    with transaction.atomic():
        actions = OutboxAction.objects.filter(case_id__in=case_ids)
        stored = [
            name
            for name in actions.filter(kind=OutboxAction.Kind.FILE_UPLOAD).values_list(
                "payload__stored_name", flat=True
            )
            if name
        ]
        actions.delete()
        WebhookEvent.objects.filter(case_id__in=case_ids).delete()
        removed = Case.objects.filter(id__in=case_ids).delete()[1].get(Case._meta.label, 0)
        # Files of uploads that never reached Debitura are still stored here.
        transaction.on_commit(lambda: _files_delete(stored))
    return removed


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def golive_runs_abandoned_clean(*, client: DebituraClient, older_than: timedelta = ABANDONED_AFTER) -> int:
    """Delete, by tag, the test cases of runs that never finished (their process was killed
    before its `finally`), and mark those runs failed; returns how many were cleaned."""
    cutoff = timezone.now() - older_than
    cleaned = 0
    for run in GoLiveRun.objects.filter(outcome=Outcome.RUNNING, started_at__lt=cutoff):
        try:
            words, _ = golive_remote_delete(tag=run.tag, case_ids=run.case_ids, client=client)
            removed = golive_local_remove(case_ids=run.case_ids)
        except Exception as exc:
            log.warning("go-live run %s left test cases behind: %s", run.tag, exc)
            continue
        GoLiveStep.objects.create(
            run=run,
            position=run.steps.count() + 1,
            capability="cleanup",
            label="Clean up by tag, after the run broke off",
            outcome=Outcome.PASSED,
            detail=f"Cleaned by a later run: {words} {removed} local copies removed.",
        )
        run.outcome, run.finished_at = Outcome.FAILED, timezone.now()
        run.save(update_fields=["outcome", "finished_at"])
        cleaned += 1
    return cleaned
