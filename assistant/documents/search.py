"""Searching a member's documents, by meaning (their Chroma collection) and by words (the database).

Only READY documents of the owner are searched. The two rankings are merged by reciprocal-rank fusion,
and each passage found comes back with what a citation needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from assistant.documents.pipeline.embed import embedder
from assistant.documents.pipeline.keyword import keyword_ranking
from assistant.documents.pipeline.store import VectorHit, vectors_query
from assistant.models import Document, DocumentChunk

# Reciprocal-rank fusion of the semantic and the keyword ranking (the usual constant).
RRF_K = 60
MAX_QUERY_TERMS = 8
MAX_QUERY_CHARS = 1000
_TERM = re.compile("\\w+(?:[.,'\u2019]\\w+)*")
_STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have",
    "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were",
    "what", "when", "where", "which", "who", "why", "will", "with", "you", "your",
))  # fmt: skip

ChunkKey = tuple[int, int]  # (document_id, chunk_number)

# The semantic half (embedding the query, asking Chroma) runs here while the keyword half queries the
# database on the caller's thread: torch and sqlite/psycopg release the GIL, so the two overlap. The
# database stays on the caller's thread, inside whatever transaction it is in.
_semantic_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="semantic-search")


@dataclass(frozen=True)
class Passage:
    """One passage found by a search, with what a citation needs."""

    document: Document
    chunk_number: int
    page: int
    heading: str
    text: str
    start: int
    end: int
    score: float  # 0..1: 1 when it is first both by meaning and by words
    similarity: float | None  # cosine similarity to the query, when the semantic search found it
    keyword_hits: int  # how many of the query's words it contains

    @property
    def citation(self) -> str:
        return f"{self.document.name}, {self.document.page_label} {self.page}"


def query_terms(query: str) -> list[str]:
    """The words of a query worth matching: lower case, no stop words, each once, at most MAX_QUERY_TERMS."""
    terms: list[str] = []
    for term in _TERM.findall(query.lower()):
        if term not in _STOP_WORDS and (len(term) > 1 or term.isdigit()) and term not in terms:
            terms.append(term)
    return terms[:MAX_QUERY_TERMS]


def _word_count(text: str, terms: Iterable[str]) -> int:
    lowered = text.lower()
    return sum(1 for term in terms if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", lowered))


def _semantic_ranking(
    owner_id: int, query: str, searchable: set[int], narrowed: list[int] | None, pool: int
) -> list[VectorHit]:
    """The nearest passages of searchable documents.

    Searching all documents asks Chroma with no filter (a filter makes it scan metadata) and drops
    what belongs to documents still indexing; only when that leaves too few does it ask again, filtered.
    """
    vector = embedder().embed_batch([query])[0]
    if narrowed is not None:
        return vectors_query(owner_id=owner_id, embedding=vector, document_ids=narrowed, limit=pool)
    hits = vectors_query(owner_id=owner_id, embedding=vector, document_ids=None, limit=2 * pool)
    kept = [hit for hit in hits if hit.document_id in searchable]
    if len(kept) < min(pool, len(hits)):
        kept = vectors_query(owner_id=owner_id, embedding=vector, document_ids=sorted(searchable), limit=pool)
    return kept[:pool]


def _fused(semantic: list[VectorHit], keyword: list[ChunkKey]) -> tuple[dict[ChunkKey, float], dict[ChunkKey, float]]:
    """Reciprocal-rank fusion scores, and the cosine similarity of what the semantic search found."""
    scores: dict[ChunkKey, float] = {}
    similarity: dict[ChunkKey, float] = {}
    for rank, hit in enumerate(semantic, start=1):
        key = (hit.document_id, hit.chunk_number)
        scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
        similarity[key] = hit.similarity
    for rank, key in enumerate(keyword, start=1):
        scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return scores, similarity


def _chunks_fetch(keys: Sequence[ChunkKey]) -> dict[ChunkKey, DocumentChunk]:
    condition = Q()
    for document_id, number in keys:
        condition |= Q(document_id=document_id, number=number)
    return {(row.document_id, row.number): row for row in DocumentChunk.objects.filter(condition)}


def documents_search(
    *, owner: Any, query: str, document_ids: Iterable[int] | None = None, limit: int = 10
) -> list[Passage]:
    """The owner's passages that best answer `query`, among `document_ids` or all their documents.

    The first call in a process loads the embedding model.
    """
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not query or limit < 1:
        return []
    documents = Document.objects.owned_by(owner).searchable()
    if document_ids is not None:
        documents = documents.filter(pk__in=list(document_ids))
    searchable = set(documents.values_list("pk", flat=True))
    if not searchable:
        return []
    narrowed = None if document_ids is None else sorted(searchable)
    pool = max(limit * 3, 20)
    terms = query_terms(query)
    semantic_future = _semantic_threads.submit(_semantic_ranking, owner.pk, query, searchable, narrowed, pool)
    keyword = keyword_ranking(owner_id=owner.pk, document_ids=narrowed, terms=terms, limit=pool)
    semantic = semantic_future.result()
    scores, similarity = _fused(semantic, keyword)
    best = 2.0 / (RRF_K + 1)
    ordered = [key for key in sorted(scores, key=lambda key: (-scores[key], key)) if key[0] in searchable]

    wanted = ordered[:limit]
    rows = _chunks_fetch(wanted)
    by_id = Document.objects.in_bulk({document_id for document_id, _ in rows})
    passages = []
    for key in wanted:
        row = rows.get(key)
        if row is None:  # a vector whose passage is gone: never shown
            continue
        passages.append(
            Passage(
                document=by_id[key[0]],
                chunk_number=row.number,
                page=row.page,
                heading=row.heading,
                text=row.text,
                start=row.start,
                end=row.end,
                score=round(scores[key] / best, 4),
                similarity=similarity.get(key),
                keyword_hits=_word_count(row.text, terms),
            )
        )
    return passages
