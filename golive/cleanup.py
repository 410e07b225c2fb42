"""Cleaning up after a check: the test cases deleted at Debitura by tag, then their local copies.

The local copy of a test case goes with everything hanging on it: its outbox rows (kept for
every real case as the audit of who did what, but these are the check's own, and the run
records what they did), files waiting to be sent, and the webhook deliveries about it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.storage import default_storage
from django.db import transaction

from cases.models import Case, WebhookEvent
from debitura.client import DebituraClient
from debitura.errors import NotFound
from golive.steps import StepFailed, StepResult
from outbox.models import OutboxAction


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
