"""A trigram full-text index for the case search box on SQLite (PostgreSQL has pg_trgm, 0002).

An FTS5 table with the trigram tokenizer over cases_case.search_text (external content: it
stores only the index), keyed by the case row's rowid and kept in step by triggers, so every
writer (the sync's upsert, bulk_create, admin) updates it without knowing about it. The search
still rechecks `search_text LIKE`, so the index only narrows the rows to read. SQLite keeps the
rowids of a rowid table through VACUUM in practice; should they ever drift,
`INSERT INTO case_search(case_search) VALUES ('rebuild')` rebuilds the index from the table.
"""

from django.db import migrations

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5("
    "search_text, content='cases_case', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS case_search_insert AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO case_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_delete AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO case_search(case_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "END",
    # Only when the haystack changed: a sync rewrites many cases whose names did not.
    "CREATE TRIGGER IF NOT EXISTS case_search_update AFTER UPDATE OF search_text ON cases_case "
    "WHEN old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO case_search(case_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO case_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO case_search(case_search) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS case_search_update",
    "DROP TRIGGER IF EXISTS case_search_delete",
    "DROP TRIGGER IF EXISTS case_search_insert",
    "DROP TABLE IF EXISTS case_search",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_indexes_without_twins")]
    operations = [migrations.RunPython(create, drop)]
