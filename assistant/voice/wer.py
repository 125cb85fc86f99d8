"""Word error rate, as the tests and the benchmark measure transcripts against what was said."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def words_normalise(text: str) -> list[str]:
    """Lower-case words without punctuation: "Boiler's pressure, 1.5" -> ["boiler's", "pressure", "1", "5"]."""
    return _WORD.findall(text.lower().replace("-", " "))


def word_error_rate(*, reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words in the reference."""
    ref, hyp = words_normalise(reference), words_normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / len(ref)
