"""Keyword search over passages, on the database's own full-text index.

SQLite keeps an FTS5 table in step with the passages by triggers; PostgreSQL keeps a generated
tsvector column under a GIN index (both made by migration 0005). Either way a search reads the index,
never the text of every passage, and ranks by BM25 (SQLite) or ts_rank (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from assistant.models import DocumentStatus

SQLITE_TABLE = "assistant_documentchunk_search"
POSTGRES_COLUMN = "search_vector"


def _any_of(terms: Sequence[str]) -> str:
    """The terms as an OR of quoted phrases, a syntax both FTS5 and websearch_to_tsquery read safely."""
    return " OR ".join('"{}"'.format(term.replace('"', " ")) for term in terms)


def _scope(owner_id: int, document_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    sql = "d.owner_id = %s AND d.status = %s"
    params: list[Any] = [owner_id, DocumentStatus.READY.value]
    if document_ids is not None:
        sql += f" AND d.id IN ({', '.join(['%s'] * len(document_ids))})"
        params.extend(document_ids)
    return sql, params


def keyword_ranking(
    *, owner_id: int, document_ids: Sequence[int] | None, terms: Sequence[str], limit: int
) -> list[tuple[int, int]]:
    """(document_id, chunk_number) of the owner's ready passages that best match any of `terms`, best first."""
    if not terms or limit < 1 or (document_ids is not None and not document_ids):
        return []
    scope, scope_params = _scope(owner_id, document_ids)
    # The SQL is put together from constants and placeholders only; every value is a parameter.
    if connection.vendor == "postgresql":
        sql = (
            "SELECT c.document_id, c.number FROM assistant_documentchunk c"  # noqa: S608
            " JOIN assistant_document d ON d.id = c.document_id,"
            " websearch_to_tsquery('simple', %s) q"
            f" WHERE c.{POSTGRES_COLUMN} @@ q AND {scope}"
            f" ORDER BY ts_rank(c.{POSTGRES_COLUMN}, q) DESC, c.document_id, c.number LIMIT %s"
        )
    elif connection.vendor == "sqlite":
        sql = (
            f"SELECT c.document_id, c.number FROM {SQLITE_TABLE} s"  # noqa: S608
            " JOIN assistant_documentchunk c ON c.id = s.rowid"
            " JOIN assistant_document d ON d.id = c.document_id"
            f" WHERE {SQLITE_TABLE} MATCH %s AND {scope}"
            f" ORDER BY bm25({SQLITE_TABLE}), c.document_id, c.number LIMIT %s"
        )
    else:
        raise NotImplementedError(f"No keyword search for the {connection.vendor} database")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_any_of(terms), *scope_params, limit])
        return [(int(document_id), int(number)) for document_id, number in cursor.fetchall()]
