"""A full-text index over passages, in each database's own way (see assistant/documents/keyword.py).

SQLite: an FTS5 table reading its text from assistant_documentchunk, kept in step by triggers. A later
migration that makes Django rebuild assistant_documentchunk on SQLite drops these triggers with the
old table, so it must create them again (run SQLITE_FORWARD after it).
PostgreSQL: a stored generated tsvector column with a GIN index.
Both stem English words (Porter / the english configuration), so "tyres" finds "tyre".
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS assistant_documentchunk_search USING fts5("
    "text, content='assistant_documentchunk', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS assistant_documentchunk_search_insert AFTER INSERT ON assistant_documentchunk"
    " BEGIN INSERT INTO assistant_documentchunk_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS assistant_documentchunk_search_delete AFTER DELETE ON assistant_documentchunk"
    " BEGIN INSERT INTO assistant_documentchunk_search(assistant_documentchunk_search, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS assistant_documentchunk_search_update AFTER UPDATE ON assistant_documentchunk"
    " BEGIN INSERT INTO assistant_documentchunk_search(assistant_documentchunk_search, rowid, text)"
    " VALUES ('delete', old.id, old.text);"
    " INSERT INTO assistant_documentchunk_search(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO assistant_documentchunk_search(assistant_documentchunk_search) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_insert",
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_delete",
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_update",
    "DROP TABLE IF EXISTS assistant_documentchunk_search",
]
POSTGRES_FORWARD = [
    "ALTER TABLE assistant_documentchunk ADD COLUMN IF NOT EXISTS search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX IF NOT EXISTS assistant_documentchunk_search_gin ON assistant_documentchunk USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS assistant_documentchunk_search_gin",
    "ALTER TABLE assistant_documentchunk DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"Hearth's keyword search supports SQLite and PostgreSQL, not {vendor}")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("assistant", "0004_chat_sources")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
