"""Searching a member's voice notes by meaning (their voice collection) and by words (the database).

Only READY notes of the owner are searched. The two rankings are merged by reciprocal-rank fusion; each
hit is scored 0..1 as document passages are (how likely it answers, from its cosine similarity: see
assistant.documents.pipeline.relevance), so chat retrieval can merge both kinds by score. Each hit
carries its note and second, which is what a citation needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from assistant.documents.pipeline.relevance import relevance, stem
from assistant.voice.clock import clock
from assistant.voice.models import Segment, VoiceNote

RRF_K = 60
MAX_QUERY_CHARS = 1000
MAX_TERMS = 8
KEYWORD_POOL = 500
_TERM = re.compile(r"\w+(?:['\u2019]\w+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "did",
        "said",
        "say",
        "about",
    ]
)

SegmentKey = tuple[int, int]  # (note_id, number)


@dataclass(frozen=True)
class VoiceHit:
    """One segment found by a search, with what a citation needs."""

    note: VoiceNote
    number: int
    start: float
    end: float
    text: str
    score: float

    @property
    def citation(self) -> str:
        return f"{self.note.title}, {clock(self.start)}"

    @property
    def url(self) -> str:
        return f"/voice/{self.note.pk}/?t={int(self.start)}"

    def source_payload(self) -> dict[str, Any]:
        """What a chat answer keeps of this hit for its Sources panel."""
        return {
            "kind": "voice",
            "note_id": self.note.pk,
            "note": self.note.title,
            "start": self.start,
            "end": self.end,
            "time_label": clock(self.start),
            "url": self.url,
            "citation": self.citation,
            "score": self.score,
            "text": self.text,
        }


def search_terms(query: str) -> list[str]:
    terms: list[str] = []
    for term in _TERM.findall(query.lower()):
        if term not in _STOP and len(term) > 1 and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _keyword_ranking(note_ids: list[int], terms: list[str], limit: int) -> list[SegmentKey]:
    if not terms:
        return []
    condition = Q()
    for term in terms:
        condition |= Q(text__icontains=term)
    rows = Segment.objects.filter(condition, note_id__in=note_ids).values_list("note_id", "number", "text")
    patterns = [re.compile(rf"(?<!\w){re.escape(term)}", re.IGNORECASE) for term in terms]
    counted = []
    for note_id, number, text in rows[:KEYWORD_POOL]:
        hits = sum(1 for pattern in patterns if pattern.search(text))
        if hits:
            counted.append((-hits, note_id, number))
    return [(note_id, number) for _, note_id, number in sorted(counted)[:limit]]


def _semantic_ranking(owner_id: int, query: str, note_ids: list[int], limit: int) -> dict[SegmentKey, float]:
    """The nearest segments by meaning, best first, with their cosine similarity to the query."""
    from assistant.documents.pipeline.embed import query_vector
    from assistant.voice.index import segment_vectors_query

    vector = query_vector(query)
    hits = segment_vectors_query(owner_id=owner_id, embedding=vector, note_ids=note_ids, limit=limit)
    return {(hit.note_id, hit.number): hit.similarity for hit in hits}


def _absent_share(note_ids: list[int], terms: list[str]) -> float:
    """The share of the question's words that no transcript of these notes holds (by stem), as the
    relevance score of document passages counts it: a question about "WireGuard" in no note."""
    if not terms:
        return 0.0
    segments = Segment.objects.filter(note_id__in=note_ids)
    absent = [term for term in terms if not segments.filter(text__icontains=stem(term)).exists()]
    return len(absent) / len(terms)


def voice_search(*, owner: Any, query: str, limit: int = 10) -> list[VoiceHit]:
    """The owner's transcript segments that best match `query`, best first."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    note_ids = list(VoiceNote.objects.owned_by(owner).searchable().values_list("pk", flat=True))
    if not query or limit < 1 or not note_ids:
        return []
    pool = max(limit * 3, 20)
    similarity = _semantic_ranking(owner.pk, query, note_ids, pool)
    terms = search_terms(query)
    absent = _absent_share(note_ids, terms)
    scores: dict[SegmentKey, float] = {}
    for ranking in (list(similarity), _keyword_ranking(note_ids, terms, pool)):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    wanted = sorted(scores, key=lambda key: (-scores[key], key))[:limit]
    condition = Q()
    for note_id, number in wanted:
        condition |= Q(note_id=note_id, number=number)
    rows = (
        {(s.note_id, s.number): s for s in Segment.objects.filter(condition).select_related("note")} if wanted else {}
    )
    # Ranked by both searches; scored like document passages (relevance from the cosine similarity and the
    # question's absent words), so a segment that merely came first does not look relevant and chat
    # retrieval can merge the two sources.
    return [
        VoiceHit(
            note=row.note,
            number=row.number,
            start=row.start,
            end=row.end,
            text=row.text,
            score=round(relevance(similarity.get(key, 0.0), absent), 4),
        )
        for key in wanted
        if (row := rows.get(key)) is not None
    ]
