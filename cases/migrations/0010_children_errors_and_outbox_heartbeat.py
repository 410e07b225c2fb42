"""A failed child refresh is recorded on its case and backed off; an outbox send has a heartbeat.

On SQLite, Django adds a NOT NULL column by copying cases_case into a new table, and the search
(0006) and tab count (0007) triggers would go with the old one; there the columns are added with
ALTER TABLE ... ADD COLUMN instead, which keeps the table and its triggers.
"""

from django.db import migrations, models

CHILDREN_ERROR = models.TextField(
    blank=True, help_text="Why the last refresh of the children failed; empty once one worked."
)
CHILDREN_FAILURES = models.PositiveSmallIntegerField(
    default=0, help_text="Child refreshes failed in a row; each doubles the wait before the next."
)
CHILDREN_RETRY_AT = models.DateTimeField(
    blank=True, null=True, help_text="After a failed child refresh the queue skips the case until then."
)
FIELDS = {
    "children_error": CHILDREN_ERROR,
    "children_failures": CHILDREN_FAILURES,
    "children_retry_at": CHILDREN_RETRY_AT,
}
SQLITE_COLUMNS = [
    """ALTER TABLE "cases_case" ADD COLUMN "children_error" text NOT NULL DEFAULT ''""",
    """ALTER TABLE "cases_case" ADD COLUMN "children_failures" smallint unsigned NOT NULL DEFAULT 0 """
    """CHECK ("children_failures" >= 0)""",
    """ALTER TABLE "cases_case" ADD COLUMN "children_retry_at" datetime NULL""",
]


def _fields():
    for name, field in FIELDS.items():
        field = field.clone()
        field.set_attributes_from_name(name)
        yield field


def columns_add(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_COLUMNS:
            schema_editor.execute(statement)
        return
    case = apps.get_model("cases", "Case")
    for field in _fields():
        schema_editor.add_field(case, field)


def columns_remove(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in reversed(FIELDS):
            schema_editor.execute(f'ALTER TABLE "cases_case" DROP COLUMN "{name}"')
        return
    case = apps.get_model("cases", "Case")
    for field in _fields():
        field.model = case
        schema_editor.remove_field(case, field)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_case_unread_messages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="case", name=name, field=field)
                for name, field in FIELDS.items()
            ],
            database_operations=[migrations.RunPython(columns_add, columns_remove)],
        ),
        migrations.AddField(
            model_name="outboxaction",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
