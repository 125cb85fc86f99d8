"""Keyword search over passages, on the database's own full-text index.

SQLite keeps an FTS5 table in step with the passages by triggers; PostgreSQL keeps a generated
tsvector column under a GIN index (both made by migrations 0005 and 0007, over each passage's context
header and text). Either way a search reads the index, never the text of every passage, and ranks by
BM25 (SQLite's bm25()) or cover density (PostgreSQL's ts_rank_cd, normalised by passage length). Words match by
their English stem (Porter on SQLite, the english configuration on PostgreSQL): "tyres" finds "tyre".

Ranking costs time for every passage that matches, so a search ranks only the query's rarer words:
words are taken rarest first while the passages they match stay within RANKED_PASSAGES. A word found in
more passages than that says little about which passage is meant (BM25 gives it almost no weight);
when every word is that common, only the passages holding all of them are ranked, if they are few
enough, and otherwise the keyword half of a search finds nothing and meaning alone decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from assistant.models import DocumentStatus

SQLITE_TABLE = "assistant_documentchunk_search"
POSTGRES_COLUMN = "search_vector"
RANKED_PASSAGES = 2000


def _phrase(term: str) -> str:
    """A term as a quoted phrase, which both FTS5 and websearch_to_tsquery read safely."""
    return '"{}"'.format(term.replace('"', " "))


def _scope(owner_id: int, document_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    sql = "d.owner_id = %s AND d.status = %s"
    params: list[Any] = [owner_id, DocumentStatus.READY.value]
    if document_ids is not None:
        sql += f" AND d.id IN ({', '.join(['%s'] * len(document_ids))})"
        params.extend(document_ids)
    return sql, params


def _matches_sql() -> str:
    """Every passage (of any member) matching a query; only ever counted, up to a limit."""
    if connection.vendor == "postgresql":
        return "SELECT 1 FROM assistant_documentchunk WHERE search_vector @@ websearch_to_tsquery('english', %s)"
    if connection.vendor == "sqlite":
        return "SELECT 1 FROM assistant_documentchunk_search WHERE assistant_documentchunk_search MATCH %s"
    raise NotImplementedError(f"No keyword search for the {connection.vendor} database")


def _ranked_sql(scope: str) -> str:
    # Put together from constants and placeholders only; every value is a parameter.
    if connection.vendor == "postgresql":
        return (
            "SELECT c.document_id, c.number FROM assistant_documentchunk c"  # noqa: S608
            " JOIN assistant_document d ON d.id = c.document_id,"
            " websearch_to_tsquery('english', %s) q"
            f" WHERE c.{POSTGRES_COLUMN} @@ q AND {scope}"
            f" ORDER BY ts_rank_cd(c.{POSTGRES_COLUMN}, q, 1) DESC, c.document_id, c.number LIMIT %s"
        )
    return (
        f"SELECT c.document_id, c.number FROM {SQLITE_TABLE} s"  # noqa: S608
        " JOIN assistant_documentchunk c ON c.id = s.rowid"
        " JOIN assistant_document d ON d.id = c.document_id"
        f" WHERE {SQLITE_TABLE} MATCH %s AND {scope}"
        f" ORDER BY bm25({SQLITE_TABLE}), c.document_id, c.number LIMIT %s"
    )


def _count_upto(cursor: Any, query: str, limit: int) -> int:
    cursor.execute(f"SELECT count(*) FROM ({_matches_sql()} LIMIT %s) matches", [query, limit])  # noqa: S608
    return int(cursor.fetchone()[0])


def _ranked_query(cursor: Any, terms: Sequence[str], counts: Mapping[str, int]) -> str | None:
    """The full-text query to rank by: the rarer words, any of them; None when all are too common."""
    present = sorted((term for term in terms if counts[term]), key=lambda term: counts[term])
    chosen, matched = [], 0
    for term in present:
        if matched + counts[term] > RANKED_PASSAGES:
            break
        chosen.append(term)
        matched += counts[term]
    if chosen:
        return " OR ".join(_phrase(term) for term in chosen)
    if len(present) > 1:
        every = " ".join(_phrase(term) for term in present)  # juxtaposed phrases: all of them
        if _count_upto(cursor, every, RANKED_PASSAGES + 1) <= RANKED_PASSAGES:
            return every
    return None


@dataclass(frozen=True)
class KeywordFound:
    """The best-matching passages, and how common each word is (for weighting words by rarity)."""

    ranking: list[tuple[int, int]]  # (document_id, chunk_number), best first
    counts: dict[str, int] = field(default_factory=dict)  # passages holding each term, capped past RANKED_PASSAGES
    passages: int = 0  # passages in the index (every member's: the counts are over all of them too)
    absent: list[str] = field(default_factory=list)  # terms no searched passage of the owner holds


def _owner_holds(cursor: Any, term: str, scope: str, params: list[Any]) -> bool:
    """Whether any of the owner's searched passages holds `term` (work bounded by the term's matches)."""
    cursor.execute(_ranked_sql(scope), [_phrase(term), *params, 1])
    return cursor.fetchone() is not None


def _stop_word(cursor: Any, term: str) -> bool:
    """PostgreSQL's english configuration drops stop words ("should", "have") from a query, which then
    matches nothing: such a word is not missing from the documents (SQLite's index keeps every word)."""
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT numnode(websearch_to_tsquery('english', %s))", [_phrase(term)])
    return int(cursor.fetchone()[0]) == 0


def _absent(cursor: Any, terms: Sequence[str], counts: Mapping[str, int], scope: str, params: list[Any]) -> list[str]:
    """Terms none of the owner's searched passages hold. Only the owner's passages decide (another member's
    words must not change what this member sees); a term in more than RANKED_PASSAGES passages of the
    whole index counts as held, which bounds the work."""
    return [
        term
        for term in terms
        if (not counts[term] and not _stop_word(cursor, term))
        or (0 < counts[term] <= RANKED_PASSAGES and not _owner_holds(cursor, term, scope, params))
    ]


def _passages_count(cursor: Any) -> int:
    cursor.execute("SELECT count(*) FROM assistant_documentchunk")
    return int(cursor.fetchone()[0])


def keyword_search(
    *, owner_id: int, document_ids: Sequence[int] | None, terms: Sequence[str], limit: int
) -> KeywordFound:
    """The owner's ready passages that best match `terms` (BM25), with each term's passage count."""
    if not terms or limit < 1 or (document_ids is not None and not document_ids):
        return KeywordFound(ranking=[])
    scope, scope_params = _scope(owner_id, document_ids)
    with connection.cursor() as cursor:
        counts = {term: _count_upto(cursor, _phrase(term), RANKED_PASSAGES + 1) for term in terms}
        total = _passages_count(cursor)
        absent = _absent(cursor, terms, counts, scope, scope_params)
        query = _ranked_query(cursor, [term for term in terms if term not in absent], counts)
        ranking: list[tuple[int, int]] = []
        if query is not None:
            cursor.execute(_ranked_sql(scope), [query, *scope_params, limit])
            ranking = [(int(document_id), int(number)) for document_id, number in cursor.fetchall()]
    return KeywordFound(ranking=ranking, counts=counts, passages=total, absent=absent)


def keyword_ranking(
    *, owner_id: int, document_ids: Sequence[int] | None, terms: Sequence[str], limit: int
) -> list[tuple[int, int]]:
    """(document_id, chunk_number) of the owner's ready passages that best match `terms`, best first."""
    return keyword_search(owner_id=owner_id, document_ids=document_ids, terms=terms, limit=limit).ranking
