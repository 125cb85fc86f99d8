"""Guards against Whisper's failure modes, and the word error rate the tests measure with."""

from __future__ import annotations

import pytest

from assistant.voice.guards import SegmentFilter, repetition_cut, segment_is_speech
from assistant.voice.wer import word_error_rate


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Thank you. Thank you. Thank you. Thank you.", "Thank you."),
        ("the boiler the boiler the boiler is broken", "the boiler is broken"),
        ("no no no no no no no no no no", "no"),
        ("I said no, no, that is fine", "I said no, no, that is fine"),
        ("we need milk and bread and eggs", "we need milk and bread and eggs"),
        ("ok so ok so ok so ok so ok so and then", "ok so and then"),
    ],
)
def test_repetition_loops_are_cut_to_one(text: str, kept: str) -> None:
    assert repetition_cut(text) == kept


def test_the_same_segment_coming_back_is_kept_twice_only() -> None:
    guard = SegmentFilter(duration=60)
    texts = ["Subscribe to my channel.", "Subscribe to my channel!", "subscribe to my channel", "Bye."]
    assert [guard.text_keep(text) for text in texts] == [
        "Subscribe to my channel.",
        "Subscribe to my channel!",
        None,
        "Bye.",
    ]


def test_empty_and_punctuation_only_segments_are_dropped() -> None:
    guard = SegmentFilter(duration=60)
    assert guard.text_keep("  ") is None
    assert guard.text_keep(" ... ") is None


def test_times_are_kept_in_order_and_inside_the_audio() -> None:
    guard = SegmentFilter(duration=10.0)
    assert guard.times(0.0, 3.0) == (0.0, 3.0)
    assert guard.times(2.5, 4.0) == (3.0, 4.0)  # overlaps the one before: starts where it ended
    assert guard.times(9.0, 12.0) == (9.0, 10.0)  # runs past the end of the audio
    assert guard.times(11.0, 11.5) == (10.0, 10.0)


@pytest.mark.parametrize(
    ("no_speech", "logprob", "speech"),
    [(0.1, -0.3, True), (0.7, -0.3, True), (0.7, -1.2, False), (0.97, -0.2, False), (0.5, -2.0, True)],
)
def test_segments_whisper_rates_as_not_speech_are_dropped(no_speech: float, logprob: float, speech: bool) -> None:
    assert segment_is_speech(no_speech_prob=no_speech, avg_logprob=logprob) is speech


def test_word_error_rate() -> None:
    assert word_error_rate(reference="The boiler, it's broken.", hypothesis="the boiler it's broken") == 0.0
    assert word_error_rate(reference="one two three four", hypothesis="one too three") == 0.5
    assert word_error_rate(reference="", hypothesis="") == 0.0
