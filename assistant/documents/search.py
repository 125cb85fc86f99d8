"""Searching a member's documents, by meaning (their Chroma collection) and by words (the database).

Only READY documents of the owner are searched. The two rankings are merged by weighted reciprocal-rank
fusion (weights and constant chosen on bench/data/documents_eval.json), which decides the order. Each
passage found comes back with what a citation needs and an honest relevance score (pipeline/relevance.py:
its meaning's cosine similarity and how much of the question's content it holds), which is what
"not found" is decided on: a best passage below HEARTH_RAG_MIN_SCORE means nothing relevant was found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from assistant.documents.pipeline.embed import query_vector
from assistant.documents.pipeline.keyword import keyword_search
from assistant.documents.pipeline.relevance import relevance
from assistant.documents.pipeline.rerank import WEIGHTS, Features, candidate_features, idf_weights
from assistant.documents.pipeline.store import VectorHit, vectors_query, vectors_similarity
from assistant.models import Document, DocumentChunk

# Weighted reciprocal-rank fusion of the semantic and the keyword ranking, chosen on the evaluation set.
# On the --quick set: k 5 and 1.5 for meaning gave recall@5 0.74 and MRR@10 0.50, against 0.70 and 0.46
# for the usual k 60 with equal weights (meaning alone 0.70 / 0.46, words alone 0.56 / 0.35).
RRF_K = 5
WEIGHT_SEMANTIC = 1.5
WEIGHT_KEYWORD = 1.0
MAX_QUERY_TERMS = 12
POOL = 30  # candidates from each half of a search, all re-scored (pipeline/rerank.py)
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
    score: float  # 0..1: how likely the passage answers the query (pipeline/relevance.py), not its rank
    similarity: float | None  # cosine similarity of its vector to the query's
    keyword_hits: int  # how many of the query's words it contains
    rank_score: float = 0.0  # the fused rank score that decides the order

    @property
    def relevance(self) -> float:
        return self.score

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
) -> tuple[list[float], list[VectorHit]]:
    """The query's vector, and the nearest passages of searchable documents.

    Searching all documents asks Chroma with no filter (a filter makes it scan metadata) and drops
    what belongs to documents still indexing; only when that leaves too few does it ask again, filtered.
    """
    vector = query_vector(query)
    if narrowed is not None:
        return vector, vectors_query(owner_id=owner_id, embedding=vector, document_ids=narrowed, limit=pool)
    hits = vectors_query(owner_id=owner_id, embedding=vector, document_ids=None, limit=2 * pool)
    kept = [hit for hit in hits if hit.document_id in searchable]
    if len(kept) < min(pool, len(hits)):
        kept = vectors_query(owner_id=owner_id, embedding=vector, document_ids=sorted(searchable), limit=pool)
    return vector, kept[:pool]


@dataclass(frozen=True)
class Rankings:
    """What the two halves of a search found, before fusion."""

    vector: list[float]  # the query's embedding
    semantic: list[VectorHit]  # nearest first
    keyword: list[ChunkKey]  # best BM25 first
    terms: list[str]
    searchable: set[int]
    counts: dict[str, int] = field(default_factory=dict)  # passages holding each term (all members')
    passages: int = 0  # passages in the full-text index
    absent: list[str] = field(default_factory=list)  # terms in none of the searched passages

    @property
    def absent_share(self) -> float:
        """The share of the query's words that none of the searched passages holds."""
        return len(self.absent) / len(self.terms) if self.terms else 0.0


def fused_scores(
    semantic: Sequence[ChunkKey],
    keyword: Sequence[ChunkKey],
    *,
    k: float = RRF_K,
    weights: tuple[float, float] = (WEIGHT_SEMANTIC, WEIGHT_KEYWORD),
) -> dict[ChunkKey, float]:
    """Weighted reciprocal-rank fusion: weight / (k + rank), summed over the two rankings."""
    scores: dict[ChunkKey, float] = {}
    for weight, ranking in zip(weights, (semantic, keyword), strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return scores


def search_rankings(
    *, owner: Any, query: str, document_ids: Iterable[int] | None = None, pool: int = POOL
) -> Rankings | None:
    """Both rankings of the owner's searchable passages for `query`; None when there is nothing to search."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not query:
        return None
    documents = Document.objects.owned_by(owner).searchable()
    if document_ids is not None:
        documents = documents.filter(pk__in=list(document_ids))
    searchable = set(documents.values_list("pk", flat=True))
    if not searchable:
        return None
    narrowed = None if document_ids is None else sorted(searchable)
    terms = query_terms(query)
    semantic_future = _semantic_threads.submit(_semantic_ranking, owner.pk, query, searchable, narrowed, pool)
    keyword = keyword_search(owner_id=owner.pk, document_ids=narrowed, terms=terms, limit=pool)
    vector, semantic = semantic_future.result()
    return Rankings(
        vector=vector,
        semantic=semantic,
        keyword=keyword.ranking,
        terms=terms,
        searchable=searchable,
        counts=keyword.counts,
        passages=keyword.passages,
        absent=keyword.absent,
    )


def _chunks_fetch(keys: Sequence[ChunkKey]) -> dict[ChunkKey, DocumentChunk]:
    condition = Q()
    for document_id, number in keys:
        condition |= Q(document_id=document_id, number=number)
    return {(row.document_id, row.number): row for row in DocumentChunk.objects.filter(condition)}


@dataclass(frozen=True)
class Candidate:
    """A passage either half of a search found, with what re-scoring it looks at."""

    key: ChunkKey
    row: DocumentChunk
    features: Features
    rank_score: float  # the re-scored order's value (rerank.WEIGHTS)
    relevance: float  # 0..1, pipeline/relevance.py


def search_candidates(
    *, owner: Any, query: str, document_ids: Iterable[int] | None = None, pool: int = POOL, depth: int | None = None
) -> list[Candidate]:
    """The passages either half found (at most 2 x `pool`; the first `depth` by fusion), re-scored, best first."""
    found = search_rankings(owner=owner, query=query, document_ids=document_ids, pool=pool)
    if found is None:
        return []
    fused = fused_scores([(hit.document_id, hit.chunk_number) for hit in found.semantic], found.keyword)
    keys = [key for key in sorted(fused, key=lambda key: (-fused[key], key)) if key[0] in found.searchable][:depth]
    similarity = {(hit.document_id, hit.chunk_number): hit.similarity for hit in found.semantic}
    missing = [key for key in keys if key not in similarity]
    similarity |= vectors_similarity(owner_id=owner.pk, embedding=found.vector, keys=missing)
    rows = _chunks_fetch(keys)
    keys = [key for key in keys if key in rows]  # a vector whose passage is gone is never shown
    features = candidate_features(
        terms=found.terms,
        idf=idf_weights(found.terms, found.counts, found.passages),
        texts=[f"{rows[key].context}\n{rows[key].text}" for key in keys],
        similarities=[similarity.get(key, 0.0) for key in keys],
        fused=[fused[key] for key in keys],
    )
    absent = found.absent_share
    candidates = [
        Candidate(key=key, row=rows[key], features=f, rank_score=f.score(), relevance=relevance(f.similarity, absent))
        for key, f in zip(keys, features, strict=True)
    ]
    candidates.sort(key=lambda candidate: (-candidate.rank_score, candidate.key))
    return candidates


def documents_search(
    *, owner: Any, query: str, document_ids: Iterable[int] | None = None, limit: int = 10
) -> list[Passage]:
    """The owner's passages that best answer `query`, among `document_ids` or all their documents.

    The first query of a process loads the embedding model (in the web server, the query worker's: jobs.remote).
    """
    if limit < 1:
        return []
    # While the order is the fusion's (rerank.WEIGHTS), only the passages shown need fetching and scoring.
    depth = limit if set(WEIGHTS) == {"fused"} else None
    pool = max(limit * 3, POOL)
    candidates = search_candidates(owner=owner, query=query, document_ids=document_ids, pool=pool, depth=depth)
    wanted = candidates[:limit]
    by_id = Document.objects.in_bulk({candidate.key[0] for candidate in wanted})
    terms = query_terms(" ".join(query.split())[:MAX_QUERY_CHARS])
    return [
        Passage(
            document=by_id[candidate.key[0]],
            chunk_number=candidate.row.number,
            page=candidate.row.page,
            heading=candidate.row.heading,
            text=candidate.row.text,
            start=candidate.row.start,
            end=candidate.row.end,
            score=round(candidate.relevance, 4),
            similarity=candidate.features.similarity,
            keyword_hits=_word_count(candidate.row.text, terms),
            rank_score=candidate.rank_score,
        )
        for candidate in wanted
    ]
