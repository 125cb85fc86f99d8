"""Re-scoring a search's candidate passages by what a careful reader checks, cheaply and with bounded work.

The two halves of a search (meaning and words) each bring at most `pool` candidates; only those are
re-scored, so the work per query is bounded whatever the library's size. For each candidate, from the
question's content words (stop words aside, compared by a crude English stem, each weighted by how rare
it is among all passages: inverse document frequency from the full-text index's own counts):
- similarity: the cosine of the question's and the passage's MiniLM vectors;
- coverage: the weighted share of the question's words found in the passage or its context header;
- bm25: Okapi BM25 of the question's words over the passage and header (k1 1.2, b 0.75, lengths
  relative to the candidates'), divided by the best candidate's, so it is 0..1 in every search;
- proximity: the weighted share of the question's words found together in one window of
  PROXIMITY_WINDOW words (the words of an answer sit near each other);
- fused: the weighted reciprocal-rank fusion score of the two rankings, divided by the best.
The order is a weighted sum of these, fitted by coordinate search (recall@5 + MRR@10) on the whole of
bench/data/documents_eval.json (48 documents, 117 questions; bench/documents_tune.py, bench/README.md).
Fitted on either half of the documents alone, the weights came out nearly the same (coverage 0.3-0.5,
BM25 0.1, proximity 0.1, the fused rank 0) and beat the fused order on the other half: recall@5 0.31 to
0.38 and 0.54 to 0.58, MRR@10 0.23 to 0.22 and 0.41 to 0.49. The fused rank still decides which
passages are candidates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.documents.pipeline.relevance import stem, word_stems

PROXIMITY_WINDOW = 12
BM25_K1 = 1.2
BM25_B = 0.75
# Fitted as described above (bench/documents_tune.py).
WEIGHTS = {"similarity": 1.0, "coverage": 0.3, "bm25": 0.1, "proximity": 0.1}


@dataclass(frozen=True)
class Features:
    similarity: float
    coverage: float
    bm25: float
    proximity: float
    fused: float

    def score(self, weights: Mapping[str, float] = WEIGHTS) -> float:
        return float(sum(weight * getattr(self, name) for name, weight in weights.items()))


def idf_weights(terms: Sequence[str], counts: Mapping[str, int], total: int) -> dict[str, float]:
    """Each term's inverse document frequency among `total` passages, from how many hold it (at least 0.1)."""
    return {term: max(0.1, math.log((total + 1) / (counts.get(term, 0) + 0.5))) for term in terms}


def _proximity(tokens: Sequence[str], weights: Mapping[str, float], total: float) -> float:
    """The largest weighted share of the question's stems that occur together within a window of words."""
    best, window = 0.0, Counter[str]()
    for position, token in enumerate(tokens):
        if token in weights:
            window[token] += 1
        leaving = position - PROXIMITY_WINDOW
        if leaving >= 0 and tokens[leaving] in weights:
            window[tokens[leaving]] -= 1
            if not window[tokens[leaving]]:
                del window[tokens[leaving]]
        if window:
            best = max(best, sum(weights[term] for term in window))
    return best / total if total else 0.0


def _bm25(frequencies: Counter[str], length: int, average: float, weights: Mapping[str, float]) -> float:
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / max(average, 1.0))
    return sum(
        weight * frequencies[term] * (BM25_K1 + 1) / (frequencies[term] + norm)
        for term, weight in weights.items()
        if frequencies[term]
    )


def candidate_features(
    *,
    terms: Sequence[str],
    idf: Mapping[str, float],
    texts: Sequence[str],
    similarities: Sequence[float],
    fused: Sequence[float],
) -> list[Features]:
    """The features of each candidate (its context header and text in `texts`), in the same order."""
    weights: dict[str, float] = {}
    for term in terms:
        key = stem(term)
        weights[key] = max(weights.get(key, 0.0), idf.get(term, 1.0))
    total = sum(weights.values())
    tokens = [word_stems(text) for text in texts]
    average = sum(map(len, tokens)) / max(len(tokens), 1)
    bm25, coverage, proximity = [], [], []
    for words in tokens:
        frequencies = Counter(word for word in words if word in weights)
        bm25.append(_bm25(frequencies, len(words), average, weights))
        coverage.append(sum(weights[term] for term in frequencies) / total if total else 0.0)
        proximity.append(_proximity(words, weights, total))
    best_bm25, best_fused = max(bm25, default=0.0) or 1.0, max(fused, default=0.0) or 1.0
    return [
        Features(
            similarity=similarities[i],
            coverage=coverage[i],
            bm25=bm25[i] / best_bm25,
            proximity=proximity[i],
            fused=fused[i] / best_fused,
        )
        for i in range(len(texts))
    ]
