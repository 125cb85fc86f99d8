"""Passages get a context header ("title / section path") that the full-text index reads with their text,
and documents remember the index version they were made with (see assistant/documents/reindex.py).

SQLite: the FTS5 table and its triggers are made again over two columns (context, text); adding the
column makes Django rebuild assistant_documentchunk, which drops the old triggers, so they are removed
first and made again after. PostgreSQL: the generated tsvector column covers both columns (the context
weighted 'A', the text 'D', which ts_rank_cd reads as more and less important).
"""

from django.db import migrations, models

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_insert",
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_delete",
    "DROP TRIGGER IF EXISTS assistant_documentchunk_search_update",
    "DROP TABLE IF EXISTS assistant_documentchunk_search",
]


def _sqlite_create(columns: str) -> list[str]:
    # Put together from constants only.
    new = ", ".join(f"new.{c}" for c in columns.split(", "))
    old = ", ".join(f"old.{c}" for c in columns.split(", "))
    table = "assistant_documentchunk_search"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, content='assistant_documentchunk',"
        " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON assistant_documentchunk"  # noqa: S608
        f" BEGIN INSERT INTO {table}(rowid, {columns}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON assistant_documentchunk"  # noqa: S608
        f" BEGIN INSERT INTO {table}({table}, rowid, {columns}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE ON assistant_documentchunk"  # noqa: S608
        f" BEGIN INSERT INTO {table}({table}, rowid, {columns}) VALUES ('delete', old.id, {old});"
        f" INSERT INTO {table}(rowid, {columns}) VALUES (new.id, {new}); END",
        f"INSERT INTO {table}({table}) VALUES ('rebuild')",  # noqa: S608
    ]


POSTGRES_DROP = [
    "DROP INDEX IF EXISTS assistant_documentchunk_search_gin",
    "ALTER TABLE assistant_documentchunk DROP COLUMN IF EXISTS search_vector",
]
POSTGRES_OLD = [
    "ALTER TABLE assistant_documentchunk ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX assistant_documentchunk_search_gin ON assistant_documentchunk USING gin (search_vector)",
]
POSTGRES_NEW = [
    "ALTER TABLE assistant_documentchunk ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', context), 'A') || setweight(to_tsvector('english', text), 'D')) STORED",
    "CREATE INDEX assistant_documentchunk_search_gin ON assistant_documentchunk USING gin (search_vector)",
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
    dependencies = [("assistant", "0006_job_kind_from_registry")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
            _run({"sqlite": SQLITE_DROP + _sqlite_create("text"), "postgresql": POSTGRES_DROP + POSTGRES_OLD}),
        ),
        migrations.AddField(
            model_name="documentchunk",
            name="context",
            field=models.CharField(blank=True, default="", max_length=400),
        ),
        migrations.AddField(
            model_name="document",
            name="index_version",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.RunPython(
            _run({"sqlite": _sqlite_create("context, text"), "postgresql": POSTGRES_NEW}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
