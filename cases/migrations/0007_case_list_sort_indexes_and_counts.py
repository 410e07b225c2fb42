"""The case list at 100,000 cases: sort indexes that end with the id, and tab counts kept by triggers.

Every sortable column gets an index on (column, id), the list's ORDER BY exactly, so a page is read
off the index even where thousands of rows tie on the column (a NULL due date, three phases); the
single-column indexes they replace (remote_updated_at's db_index among them) still serve equality
and range filters, and MAX(remote_updated_at), as their prefix.

cases_casecount holds the visible cases (gone_at IS NULL) per lifecycle, assignee and test flag,
kept by triggers on cases_case, so every writer (the sync's upserts and COPY, bulk_create, admin,
raw SQL) keeps it right without knowing about it and the tab counts read a few rows. SQLite has
one writer at a time: its row triggers update one row per group in place. PostgreSQL writers run
side by side, and one row per group would make them queue for it (or deadlock, each holding a
case the other wants): there, insert and delete statements append one change row per group from
their transition tables, an update that moves a case appends -1 and +1, and readers add them up
(cases.counts folds them together now and then, skipping rows another transaction holds).
"""

from django.db import migrations, models

SQLITE = [
    "CREATE UNIQUE INDEX case_count_group ON cases_casecount (lifecycle, assignee, is_test_case)",
    "CREATE TRIGGER case_count_insert AFTER INSERT ON cases_case WHEN new.gone_at IS NULL BEGIN "
    "INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases) "
    "VALUES (new.lifecycle, coalesce(new.assigned_to_id, 0), new.is_test_case, 1) "
    "ON CONFLICT (lifecycle, assignee, is_test_case) DO UPDATE SET cases = cases + 1; END",
    "CREATE TRIGGER case_count_delete AFTER DELETE ON cases_case WHEN old.gone_at IS NULL BEGIN "
    "UPDATE cases_casecount SET cases = cases - 1 WHERE lifecycle = old.lifecycle "
    "AND assignee = coalesce(old.assigned_to_id, 0) AND is_test_case = old.is_test_case; END",
    "CREATE TRIGGER case_count_update AFTER UPDATE OF lifecycle, assigned_to_id, is_test_case, gone_at "
    "ON cases_case WHEN old.lifecycle IS NOT new.lifecycle OR old.assigned_to_id IS NOT new.assigned_to_id "
    "OR old.is_test_case IS NOT new.is_test_case OR (old.gone_at IS NULL) IS NOT (new.gone_at IS NULL) "
    "BEGIN "
    "UPDATE cases_casecount SET cases = cases - 1 WHERE old.gone_at IS NULL AND lifecycle = old.lifecycle "
    "AND assignee = coalesce(old.assigned_to_id, 0) AND is_test_case = old.is_test_case; "
    "INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases) "
    "SELECT new.lifecycle, coalesce(new.assigned_to_id, 0), new.is_test_case, 1 WHERE new.gone_at IS NULL "
    "ON CONFLICT (lifecycle, assignee, is_test_case) DO UPDATE SET cases = cases + 1; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS case_count_update",
    "DROP TRIGGER IF EXISTS case_count_delete",
    "DROP TRIGGER IF EXISTS case_count_insert",
]

POSTGRESQL = [
    """
    CREATE FUNCTION case_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases)
            SELECT lifecycle, coalesce(assigned_to_id, 0), is_test_case, count(*)
            FROM case_count_new WHERE gone_at IS NULL GROUP BY 1, 2, 3;
        ELSE
            INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases)
            SELECT lifecycle, coalesce(assigned_to_id, 0), is_test_case, -count(*)
            FROM case_count_old WHERE gone_at IS NULL GROUP BY 1, 2, 3;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION case_count_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.gone_at IS NULL THEN
            INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases)
            VALUES (OLD.lifecycle, coalesce(OLD.assigned_to_id, 0), OLD.is_test_case, -1);
        END IF;
        IF NEW.gone_at IS NULL THEN
            INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases)
            VALUES (NEW.lifecycle, coalesce(NEW.assigned_to_id, 0), NEW.is_test_case, 1);
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER case_count_insert AFTER INSERT ON cases_case REFERENCING NEW TABLE AS case_count_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_count_statement()",
    "CREATE TRIGGER case_count_delete AFTER DELETE ON cases_case REFERENCING OLD TABLE AS case_count_old "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_count_statement()",
    # Only rows whose counted columns changed call the function; a sync's rewrite of a case does not.
    "CREATE TRIGGER case_count_update AFTER UPDATE OF lifecycle, assigned_to_id, is_test_case, gone_at "
    "ON cases_case FOR EACH ROW WHEN (OLD.lifecycle IS DISTINCT FROM NEW.lifecycle "
    "OR OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id OR OLD.is_test_case IS DISTINCT FROM "
    "NEW.is_test_case OR (OLD.gone_at IS NULL) IS DISTINCT FROM (NEW.gone_at IS NULL)) "
    "EXECUTE FUNCTION case_count_row()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS case_count_update ON cases_case",
    "DROP TRIGGER IF EXISTS case_count_delete ON cases_case",
    "DROP TRIGGER IF EXISTS case_count_insert ON cases_case",
    "DROP FUNCTION IF EXISTS case_count_row()",
    "DROP FUNCTION IF EXISTS case_count_statement()",
]

FILL = (
    "INSERT INTO cases_casecount (lifecycle, assignee, is_test_case, cases) "
    "SELECT lifecycle, coalesce(assigned_to_id, 0), is_test_case, count(*) FROM cases_case "
    "WHERE gone_at IS NULL GROUP BY lifecycle, coalesce(assigned_to_id, 0), is_test_case"
)


def triggers_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor)
    if statements is None:
        raise RuntimeError(f"The case count triggers are written for SQLite and PostgreSQL, not {vendor}.")
    for statement in [*statements, FILL]:
        schema_editor.execute(statement)


def triggers_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_case_search_fts")]

    operations = [
        migrations.RemoveIndex(model_name="case", name="case_phase"),
        migrations.RemoveIndex(model_name="case", name="case_gross_amount"),
        migrations.RemoveIndex(model_name="case", name="case_remainder"),
        migrations.RemoveIndex(model_name="case", name="case_date_created"),
        migrations.RemoveIndex(model_name="case", name="case_due_date"),
        migrations.RemoveIndex(model_name="case", name="case_partner_reference"),
        migrations.RemoveIndex(model_name="case", name="case_reference"),
        migrations.RemoveIndex(model_name="case", name="case_assignee_lifecycle"),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["assigned_to", "id"], name="case_assignee_id")
        ),
        # remote_updated_at's own index gives way to (remote_updated_at, id). Dropped by name: an
        # AlterField would make SQLite copy the table into a new one, and the FTS triggers of 0006
        # would go with the old one.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="remote_updated_at",
                    field=models.DateTimeField(blank=True, help_text="Debitura's dateUpdated.", null=True),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX cases_case_remote_updated_at_60739cdd",
                    'CREATE INDEX cases_case_remote_updated_at_60739cdd ON cases_case ("remote_updated_at")',
                )
            ],
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["reference", "id"], name="case_reference_id")
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["remote_updated_at", "id"], name="case_updated_id"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["partner_reference", "id"], name="case_partner_reference_id"),
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["debtor_name", "id"], name="case_debtor_name_id")
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["creditor_name", "id"], name="case_creditor_name_id"),
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["lifecycle", "id"], name="case_lifecycle_id")
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["engagement_phase", "id"], name="case_phase_id")
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["gross_amount", "id"], name="case_gross_amount_id"),
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["remainder", "id"], name="case_remainder_id")
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["date_created", "id"], name="case_date_created_id"),
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["due_date", "id"], name="case_due_date_id")
        ),
        migrations.CreateModel(
            name="CaseCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("lifecycle", models.CharField(max_length=32)),
                (
                    "assignee",
                    models.IntegerField(default=0, help_text="The assigned user's id; 0 for nobody."),
                ),
                ("is_test_case", models.BooleanField(default=False)),
                ("cases", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
