"""The per-query cutoff: relative to the best hit and to how the query scores against the library."""

from __future__ import annotations

import random

import pytest

from assistant.photos.cutoff import Background, Cutoff, background_of, cutoff_find


def noise(count: int, *, mean: float, deviation: float, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, deviation) for _ in range(count)]


def ranked(*groups: list[float]) -> list[float]:
    return sorted((score for group in groups for score in group), reverse=True)


@pytest.mark.parametrize(
    ("relevant", "background"),
    [
        ([0.33, 0.32, 0.315, 0.31], Background(mean=0.20, deviation=0.02)),  # words → photos, a good model
        ([1.0, 0.93, 0.90, 0.88], Background(mean=0.50, deviation=0.08)),  # photo → photos
    ],
    ids=["text-scale", "image-scale"],
)
def test_the_same_rule_cuts_on_both_scales(relevant: list[float], background: Background) -> None:
    unrelated = noise(40, mean=background.mean, deviation=background.deviation)
    scores = ranked(relevant, [min(s, relevant[-1] - 0.05) for s in unrelated])
    assert cutoff_find(scores=scores, background=background).keep == len(relevant)


def test_a_flat_threshold_would_fail_where_the_cutoff_does_not() -> None:
    """0.3 keeps every unrelated photo of an image query, and drops every relevant hit of a text query
    with a weaker model; the adaptive cutoff gets both right."""
    image_query = ranked([0.97, 0.95], noise(30, mean=0.55, deviation=0.05))
    text_query = ranked([0.27, 0.265], noise(30, mean=0.16, deviation=0.015, seed=2))
    assert sum(score >= 0.3 for score in image_query) == 32
    assert sum(score >= 0.3 for score in text_query) == 0
    assert cutoff_find(scores=image_query).keep == 2
    assert cutoff_find(scores=text_query).keep == 2


def test_a_query_that_matches_nothing_keeps_nothing() -> None:
    background = Background(mean=0.2, deviation=0.03)
    scores = ranked(noise(50, mean=0.2, deviation=0.03))
    scores = [min(score, 0.2 + 1.2 * 0.03) for score in scores]
    assert cutoff_find(scores=scores, background=background) == Cutoff(keep=0, threshold=pytest.approx(0.245))


def test_hits_must_keep_half_the_best_lead() -> None:
    background = Background(mean=0.5, deviation=0.01)
    assert cutoff_find(scores=[0.9, 0.71, 0.69, 0.6], background=background) == Cutoff(keep=2, threshold=0.7)


def test_the_best_hit_alone_is_kept_when_it_alone_stands_out() -> None:
    assert cutoff_find(scores=ranked([0.99], noise(20, mean=0.4, deviation=0.05))).keep == 1


def test_without_a_background_the_hits_are_their_own() -> None:
    assert background_of(scores=[0.5, 0.4, 0.3]) == Background(mean=0.4, deviation=pytest.approx(0.14826))


def test_too_few_hits_to_compare_are_all_kept() -> None:
    assert cutoff_find(scores=[]) == Cutoff(keep=0, threshold=1.0)
    assert cutoff_find(scores=[0.4]) == Cutoff(keep=1, threshold=0.4)
    assert cutoff_find(scores=[0.4, 0.1]) == Cutoff(keep=2, threshold=0.1)


def test_equal_scores_are_all_kept() -> None:
    assert cutoff_find(scores=[0.5] * 6).keep == 6


def test_unsorted_scores_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="sorted"):
        cutoff_find(scores=[0.1, 0.5])
