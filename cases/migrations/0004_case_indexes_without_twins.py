"""Fewer index writes per synced case.

The references keep a plain index but lose PostgreSQL's LIKE-pattern twin (nothing filters
them by prefix; the search box uses search_text); assigned_to loses the index that
case_assignee_lifecycle already starts with. On PostgreSQL the trigram index keeps up to 32 MB
of new entries in its pending list (default 4 MB), so a first sync of 10,000 cases appends
instead of merging into the index as it goes; (auto)vacuum merges them in one pass. Until then
a search also scans the list, a few milliseconds at that size.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def gin_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX case_search_trgm SET (gin_pending_list_limit = 32768)")


def gin_pending_list_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX case_search_trgm RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_case_raw_hash"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="assigned_to",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_cases",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="partner_reference",
            field=models.CharField(
                blank=True,
                help_text="The agency's own reference, set when the case was accepted.",
                max_length=128,
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="reference",
            field=models.CharField(help_text="Debitura's reference, e.g. Q8OAXF3W.", max_length=32),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["reference"], name="case_reference"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["partner_reference"], name="case_partner_reference"),
        ),
        migrations.RunPython(gin_pending_list, gin_pending_list_default),
    ]
