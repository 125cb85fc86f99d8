"""How likely a passage is to answer a question: one 0..1 score that means the same in every search.

A logistic function of two things, fitted on bench/data/documents_eval.json (real manuals, paraphrased
questions, and questions on nearby topics that no document answers; see bench/README.md) on one half
of the documents and checked on the other:
- the cosine similarity of the question's and the passage's MiniLM vectors (meaning), and
- the share of the question's content words (stop words aside, matched by English stem) that none of
  the searched passages holds at all: a question about "WireGuard" when no document names it.
Unlike the rank-fusion score, it does not rise just because a passage came first: an unrelated best
passage scores low, so "not found" can be decided by a threshold (HEARTH_RAG_MIN_SCORE, 0.5). The
fit is over questions (answerable or not, by the best of their first passages), so a passage's score
reads "how likely the question is answered, if this passage is the best there is".
The share of the question's words a passage holds (term_coverage) was tried too and added nothing.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence

# Fitted by logistic regression on the full evaluation set (96 answerable, 21 unanswerable questions,
# 2026-11-30; bench/documents_tune.py): the best of the first 4 passages of each question, in the order of
# pipeline/rerank.py. Fitted on either half of the documents alone, the other half's not-found rate was
# 0.50 (false not-found 0.10) and 0.64 (0.00); cosine alone: 0.40 (0.06) and 0.45 (0.02). On the
# --quick set's halves: 0.70 (0.05) and 0.82 (0.00), cosine alone 0.40 and 0.55. With no absent word,
# a passage of cosine 0.25 scores 0.5; each tenth of the question's words found nowhere lowers the
# score as much as 0.13 of cosine.
WEIGHT_SIMILARITY = 10.50
WEIGHT_ABSENT = -13.49
BIAS = -2.66
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


def relevance(similarity: float, absent: float = 0.0) -> float:
    """The probability-like score of a passage of this cosine similarity, for a question with this share
    of words found in no searched passage (0 when unknown, as for voice notes)."""
    z = WEIGHT_SIMILARITY * similarity + WEIGHT_ABSENT * absent + BIAS
    return 1.0 / (1.0 + math.exp(-z))
