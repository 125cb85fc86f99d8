"""What bench.documents_eval computes: which passage answers, the metrics, the not-found curve, the baselines.

Nothing here needs Django; the baselines take the pages' text and an embedding function.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

GOAL_RECALL_AT_5 = 0.90
GOAL_MRR_AT_10 = 0.75
GOAL_NOT_FOUND = 0.90  # on unanswerable questions, at least
GOAL_FALSE_NOT_FOUND = 0.05  # on answerable questions, at most
CUT_EVIDENCE = 0.6  # a passage cut inside the evidence still answers if it holds this much of it, from one end
BASELINE_CHUNK_CHARS = 800
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_WORD = re.compile(r"\w+")
_STOP = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have",
    "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were",
    "what", "when", "where", "which", "who", "why", "will", "with", "you", "your",
))  # fmt: skip


def normalized(text: str) -> str:
    """Letters and digits only, lower case: PDF line breaks, hyphens and odd spaces do not matter."""
    return _NOT_ALNUM.sub("", text.lower())


def answers(question: dict[str, Any], document: str, page: int, text: str) -> bool:
    """Whether a passage from `document` (`page`, when the document has pages) holds the question's evidence."""
    if not question.get("answerable") or document != question["document"]:
        return False
    if "pages" in question and page not in question["pages"]:
        return False
    evidence, body = normalized(question["evidence"]), normalized(text)
    if evidence in body:
        return True
    part = max(12, math.ceil(len(evidence) * CUT_EVIDENCE))
    return evidence[:part] in body or evidence[-part:] in body


@dataclass
class Outcome:
    """One question's result: the rank of the first answering passage (None: not in the top 10), the top score."""

    id: str
    answerable: bool
    rank: int | None
    top_score: float | None  # None: the search returned nothing
    document_rank: int | None = None  # the rank of the first passage from the right document


@dataclass
class Summary:
    name: str
    recall: dict[int, float] = field(default_factory=dict)
    mrr: float = 0.0
    document_recall_5: float = 0.0
    threshold: float | None = None
    not_found: float | None = None  # share of unanswerable questions answered "not found"
    false_not_found: float | None = None  # share of answerable questions answered "not found"
    answerable: int = 0
    unanswerable: int = 0


def not_found_rates(outcomes: Sequence[Outcome], threshold: float) -> tuple[float, float]:
    """(not-found rate on unanswerable, false not-found rate on answerable) when the top score must reach it."""

    def refused(outcome: Outcome) -> bool:
        return outcome.top_score is None or outcome.top_score < threshold

    unanswerable = [o for o in outcomes if not o.answerable]
    answerable = [o for o in outcomes if o.answerable]
    return (
        sum(map(refused, unanswerable)) / max(len(unanswerable), 1),
        sum(map(refused, answerable)) / max(len(answerable), 1),
    )


def summarize(name: str, outcomes: Sequence[Outcome], threshold: float | None) -> Summary:
    answerable = [o for o in outcomes if o.answerable]
    count = max(len(answerable), 1)
    summary = Summary(name=name, answerable=len(answerable), unanswerable=len(outcomes) - len(answerable))
    for k in (1, 5, 10):
        summary.recall[k] = sum(1 for o in answerable if o.rank is not None and o.rank <= k) / count
    summary.mrr = sum(1.0 / o.rank for o in answerable if o.rank is not None and o.rank <= 10) / count
    summary.document_recall_5 = sum(1 for o in answerable if o.document_rank and o.document_rank <= 5) / count
    if threshold is not None:
        summary.threshold = threshold
        summary.not_found, summary.false_not_found = not_found_rates(outcomes, threshold)
    return summary


def curve(outcomes: Sequence[Outcome], steps: int = 20) -> list[tuple[float, float, float]]:
    """(threshold, not-found on unanswerable, false not-found on answerable) across the scores' range."""
    scores = [o.top_score for o in outcomes if o.top_score is not None]
    if not scores:
        return []
    low, high = min(scores), max(scores)
    points = []
    for i in range(steps + 1):
        threshold = round(low + (high - low) * i / steps, 4)
        points.append((threshold, *not_found_rates(outcomes, threshold)))
    return points


def best_threshold(outcomes: Sequence[Outcome], max_false: float = GOAL_FALSE_NOT_FOUND) -> tuple[float, float, float]:
    """The threshold with the most not-found on unanswerable while false not-found stays within `max_false`."""
    candidates = sorted({o.top_score for o in outcomes if o.top_score is not None})
    best = (0.0, *not_found_rates(outcomes, 0.0))
    for threshold in candidates:
        rates = not_found_rates(outcomes, threshold)
        if rates[1] <= max_false and rates[0] > best[1]:
            best = (threshold, *rates)
    return best


# --- baselines over simple chunks ------------------------------------------------------------------


@dataclass(frozen=True)
class SimpleChunk:
    document: str
    page: int
    text: str


def simple_chunks(
    document: str, pages: Sequence[tuple[int, str]], size: int = BASELINE_CHUNK_CHARS
) -> list[SimpleChunk]:
    """Each page's text cut every `size` characters (at the last space before), no overlap, no structure."""
    chunks = []
    for number, text in pages:
        position = 0
        while position < len(text):
            end = len(text) if len(text) - position <= size else text.rfind(" ", position + 1, position + size)
            if end <= position:
                end = position + size
            piece = text[position:end].strip()
            if piece:
                chunks.append(SimpleChunk(document, number, piece))
            position = end
    return chunks


def words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in _STOP]


class Bm25:
    """Okapi BM25 (k1 1.2, b 0.75) over every word of every chunk: the textbook baseline."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.docs = [Counter(words(text)) for text in texts]
        self.lengths = [sum(counts.values()) for counts in self.docs]
        self.average = sum(self.lengths) / max(len(self.lengths), 1)
        frequency: Counter[str] = Counter()
        for counts in self.docs:
            frequency.update(counts.keys())
        total = len(self.docs)
        self.idf = {word: math.log(1 + (total - df + 0.5) / (df + 0.5)) for word, df in frequency.items()}

    def scores(self, query: str) -> list[float]:
        terms = [term for term in set(words(query)) if term in self.idf]
        result = []
        for counts, length in zip(self.docs, self.lengths, strict=True):
            norm = 1.2 * (0.25 + 0.75 * length / self.average)
            result.append(sum(self.idf[t] * counts[t] * 2.2 / (counts[t] + norm) for t in terms if t in counts))
        return result


def ranked_outcome(
    question: dict[str, Any], chunks: Sequence[SimpleChunk], scores: Sequence[float], top_score: float | None
) -> Outcome:
    order = sorted(range(len(chunks)), key=lambda i: -scores[i])[:10]
    rank = document_rank = None
    for position, index in enumerate(order, start=1):
        chunk = chunks[index]
        if rank is None and answers(question, chunk.document, chunk.page, chunk.text):
            rank = position
        if document_rank is None and question.get("answerable") and chunk.document == question["document"]:
            document_rank = position
    return Outcome(question["id"], bool(question.get("answerable")), rank, top_score, document_rank)


def baseline_outcomes(
    questions: Sequence[dict[str, Any]],
    chunks: Sequence[SimpleChunk],
    embed: Callable[[Sequence[str]], Any],
) -> dict[str, list[Outcome]]:
    """Plain BM25 and plain dense (cosine of unit vectors) over the same simple chunks."""
    import numpy as np

    bm25 = Bm25([chunk.text for chunk in chunks])
    vectors = np.asarray(embed([chunk.text for chunk in chunks]), dtype=np.float32)
    queries = np.asarray(embed([q["question"] for q in questions]), dtype=np.float32)
    result: dict[str, list[Outcome]] = {"BM25, 800-char chunks": [], "dense MiniLM, 800-char chunks": []}
    for question, query in zip(questions, queries, strict=True):
        keyword = bm25.scores(question["question"])
        result["BM25, 800-char chunks"].append(ranked_outcome(question, chunks, keyword, max(keyword, default=None)))
        cosine = (vectors @ query).tolist()
        result["dense MiniLM, 800-char chunks"].append(ranked_outcome(question, chunks, cosine, max(cosine)))
    return result
