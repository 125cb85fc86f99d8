"""Where a photo search stops being relevant: a cutoff found per query, never one flat threshold.

CLIP's similarities live on different scales: a photo against words scores 0.2 to 0.35 with a good
model, a photo against a photo 0.5 to 1.0, and each model and each query shifts both (which is why
one fixed threshold fails: immich#5996). So the cutoff is relative to two things this query produced:

- the background: how this query scores against the library as a whole (the median and spread of
  its similarity to a sample of the member's photos, or without a sample, of the hits themselves).
  A hit that does not stand out from the background by `spread` deviations is noise;
- the best hit: a hit must keep at least `relative` of the best hit's lead over the background.

If even the best hit does not stand out, nothing is relevant and nothing is kept. Pure, no I/O.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Median absolute deviation x this estimates the standard deviation of a normal distribution.
MAD_TO_SIGMA = 1.4826
# Below this spread every score is effectively the same, and none stands out from the others.
FLAT = 1e-6


@dataclass(frozen=True)
class Background:
    """How a query scores against the library in general: mean and standard deviation of similarity."""

    mean: float
    deviation: float


@dataclass(frozen=True)
class Cutoff:
    """How many of the hits (best first) to keep, and the similarity the last kept one reached."""

    keep: int
    threshold: float


def background_of(*, scores: Sequence[float]) -> Background:
    """A robust background from scores alone: their median, and their spread from the median."""
    median = statistics.median(scores)
    deviation = MAD_TO_SIGMA * statistics.median(abs(score - median) for score in scores)
    return Background(mean=median, deviation=deviation)


def cutoff_find(
    *,
    scores: Sequence[float],
    background: Background | None = None,
    spread: float = 1.5,
    relative: float = 0.5,
) -> Cutoff:
    """Cut the hits `scores` (similarities, best first) where they stop standing out.

    Fewer than three hits and no background: there is nothing to compare with, and all are kept.
    """
    if any(later > earlier for earlier, later in itertools.pairwise(scores)):
        raise ValueError("scores must be sorted, best first")
    if not scores:
        return Cutoff(keep=0, threshold=1.0)
    if background is None:
        if len(scores) < 3:
            return Cutoff(keep=len(scores), threshold=scores[-1])
        background = background_of(scores=scores)
    best = scores[0]
    lead = best - background.mean
    if background.deviation < FLAT and lead < FLAT:
        return Cutoff(keep=len(scores), threshold=scores[-1])  # all equal: none is better than another
    noise = background.mean + spread * background.deviation
    threshold = max(noise, best - relative * lead)
    if best < threshold:
        return Cutoff(keep=0, threshold=threshold)
    keep = sum(1 for score in scores if score >= threshold)
    return Cutoff(keep=keep, threshold=threshold)
