"""Unread chat messages: when someone here saw a message, and a count per case for the list and navigation.

On SQLite, Django adds a NOT NULL column by copying cases_case into a new table, and the search
(0006) and tab count (0007) triggers would go with the old one; there the column is added with
ALTER TABLE ... ADD COLUMN instead, which keeps the table and its triggers.
"""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery

UNREAD_MESSAGES = models.PositiveIntegerField(
    default=0, help_text="Chat messages from the creditor's side no agent has seen yet (cases.unread)."
)
SQLITE_COLUMN = (
    'ALTER TABLE "cases_case" ADD COLUMN "unread_messages" integer unsigned NOT NULL DEFAULT 0 '
    'CHECK ("unread_messages" >= 0)'
)


def _field(model):
    field = UNREAD_MESSAGES.clone()
    field.set_attributes_from_name("unread_messages")
    field.model = model
    return field


def column_add(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_COLUMN)
    else:
        case = apps.get_model("cases", "Case")
        schema_editor.add_field(case, _field(case))


def column_remove(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute('ALTER TABLE "cases_case" DROP COLUMN "unread_messages"')
    else:
        case = apps.get_model("cases", "Case")
        schema_editor.remove_field(case, _field(case))


def count_unread(apps, schema_editor):
    """Cases already holding unread messages from the creditor's side start with their count."""
    Case = apps.get_model("cases", "Case")
    ChatMessage = apps.get_model("cases", "ChatMessage")
    unread = ChatMessage.objects.filter(is_seen=False, seen_at__isnull=True).exclude(role=0)
    per_case = (
        unread.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("pk")).values("n")
    )
    Case.objects.filter(pk__in=unread.values("case")).update(unread_messages=Subquery(per_case))


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_casefile_size_uploaded_by")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="case", name="unread_messages", field=UNREAD_MESSAGES)
            ],
            database_operations=[migrations.RunPython(column_add, column_remove)],
        ),
        migrations.AddField(
            model_name="chatmessage",
            name="seen_at",
            field=models.DateTimeField(
                blank=True, help_text="When someone who works cases first saw it in the portal.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="is_seen",
            field=models.BooleanField(
                default=False, help_text="Debitura says it was seen (in its own portal)."
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=Q(("gone_at__isnull", True), ("unread_messages__gt", 0)),
                fields=["is_test_case", "unread_messages"],
                name="case_unread",
            ),
        ),
        migrations.RunPython(count_unread, migrations.RunPython.noop),
    ]
