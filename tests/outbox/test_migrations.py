"""Moving OutboxAction from `cases` to `outbox` keeps its table and who may act on its rows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outbox.models import OutboxAction

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: list[tuple[str, str | None]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def test_the_rows_content_type_and_its_permissions_move_to_the_outbox_app(administrator):
    moved = ContentType.objects.get_for_model(OutboxAction)
    assert (OutboxAction._meta.db_table, moved.app_label) == ("cases_outboxaction", "outbox")
    try:
        _migrate([("outbox", None)])
        # As a database made before the move has it: the permissions under the `cases` label.
        assert ContentType.objects.get(pk=moved.pk).app_label == "cases"
        assert get_user_model().objects.get(pk=administrator.pk).has_perm("cases.change_outboxaction")
    finally:
        _migrate()

    assert ContentType.objects.get(pk=moved.pk).app_label == "outbox"
    assert not ContentType.objects.filter(app_label="cases", model="outboxaction").exists()
    again = get_user_model().objects.get(pk=administrator.pk)
    assert again.has_perm("outbox.change_outboxaction")
    assert not again.has_perm("cases.change_outboxaction")
