"""How likely a passage is to answer a question: one 0..1 score that means the same in every search.

The score can combine two things a person would check, through a logistic function whose three
coefficients were fitted once on bench/data/documents_eval.json (real manuals, paraphrased questions,
and questions on nearby topics that no document answers; see bench/README.md):
- the cosine similarity of the question's and the passage's MiniLM vectors (meaning), and
- how much of the question's content the passage holds: the share of the question's content words
  (stop words aside, compared by a crude English stem) found in the passage or its context header,
  each word weighted by how rare it is in the member's passages.
Unlike the rank-fusion score, it does not rise just because a passage came first: an unrelated best
passage scores low, so "not found" can be decided by a threshold (HEARTH_RAG_MIN_SCORE).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence

# Fitted on the evaluation set (logistic regression, answering top passages against the top passages of
# unanswerable questions); see bench/README.md, "Documents: evaluation".
# On that set (43 answerable and 21 unanswerable questions of the --quick run, 2026-11-30) term coverage
# added nothing to the similarity once fused ranks had picked the passages, so its weight is 0; the
# similarity's weight and the bias make a best passage of cosine 0.351 score 0.49, the default threshold.
WEIGHT_SIMILARITY = 8.70
WEIGHT_COVERAGE = 0.0
BIAS = -3.09
_WORD = re.compile(r"\w+")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    """A crude English stem, enough to match "tyres" with "tyre" and "compressed" with "compress"."""
    return _stem(word.lower())


@functools.lru_cache(maxsize=65536)  # re-scoring stems every word of ~60 passages per search
def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 3 and word.endswith(suffix) and not (suffix == "s" and word.endswith("ss")):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def stems(text: str) -> set[str]:
    return {stem(word) for word in _WORD.findall(text)}


def word_stems(text: str) -> list[str]:
    """The stem of every word of `text`, in order."""
    return [_stem(word) for word in _WORD.findall(text.lower())]


def term_coverage(terms: Sequence[str], text: str, rarity: Mapping[str, float] | None = None) -> float:
    """The share of `terms` (weighted by `rarity`, 1 each by default) whose stem occurs in `text`."""
    if not terms:
        return 0.0
    found = stems(text)
    total = covered = 0.0
    for term in terms:
        weight = rarity.get(term, 1.0) if rarity else 1.0
        total += weight
        if stem(term) in found:
            covered += weight
    return covered / total if total else 0.0


def rarity_weight(matches: int, passages: int) -> float:
    """How much a word says about which passage is meant: inverse document frequency, at least 0.1."""
    return max(0.1, math.log((passages + 1) / (matches + 0.5)))


def relevance(similarity: float, coverage: float) -> float:
    """The probability-like score of a passage with this cosine similarity and term coverage."""
    z = WEIGHT_SIMILARITY * similarity + WEIGHT_COVERAGE * coverage + BIAS
    return 1.0 / (1.0 + math.exp(-z))
