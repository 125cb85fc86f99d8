"""Guards against Whisper's known failure modes, applied to every engine's segments.

- Text invented over silence or noise: a segment Whisper itself rates as probably not speech
  (no_speech_prob above 0.6 with an average log-probability below -1, Whisper's own rule) is dropped,
  and so is one it is all but sure is not speech.
- Repetition loops (faster-whisper#506): a phrase repeated over and over inside a segment is cut to one
  occurrence, and the same segment text coming back again and again is kept only twice.
- Timestamps that run backwards or past the audio are clamped, so a transcript is always in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
CERTAIN_NO_SPEECH = 0.95
MAX_NGRAM = 8
SAME_SEGMENT_KEEP = 2
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def segment_is_speech(*, no_speech_prob: float, avg_logprob: float) -> bool:
    """False for a segment Whisper rates as probably silence or noise."""
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOW_LOGPROB:
        return False
    return no_speech_prob < CERTAIN_NO_SPEECH


def _key(word: str) -> str:
    return "".join(_WORD.findall(word.lower()))


def _repeats_needed(size: int) -> int:
    """How many times in a row an n-word phrase must come before it counts as a loop."""
    return 4 if size == 1 else 3


def _collapse_once(words: list[str]) -> list[str] | None:
    """The words with the first loop found cut to one occurrence, or None when there is none."""
    keys = [_key(word) for word in words]
    for size in range(1, MAX_NGRAM + 1):
        for start in range(len(words) - size * _repeats_needed(size) + 1):
            phrase = keys[start : start + size]
            if not any(phrase):
                continue
            count = 1
            while keys[start + count * size : start + (count + 1) * size] == phrase:
                count += 1
            if count >= _repeats_needed(size):
                return words[: start + size] + words[start + count * size :]
    return None


def repetition_cut(text: str) -> str:
    """The text with each phrase that loops (the same words 3+ times in a row; one word 4+) kept once."""
    words = text.split()
    while (collapsed := _collapse_once(words)) is not None:
        words = collapsed
    return " ".join(words)


@dataclass
class SegmentFilter:
    """Keeps the order and sanity of the segments of one transcription, window after window."""

    duration: float
    last_end: float = 0.0
    last_text: str = ""
    same_count: int = 0

    def text_keep(self, text: str) -> str | None:
        """The segment's text after cutting loops, or None when it should be dropped."""
        cleaned = repetition_cut(text.strip())
        key = " ".join(_key(word) for word in cleaned.split())
        if not key.strip():
            return None
        self.same_count = self.same_count + 1 if key == self.last_text else 1
        self.last_text = key
        return cleaned if self.same_count <= SAME_SEGMENT_KEEP else None

    def times(self, start: float, end: float) -> tuple[float, float]:
        """start/end moved into order after the previous segment and inside the audio."""
        limit = self.duration if self.duration > 0 else max(end, start)
        start = min(max(start, self.last_end), limit)
        end = min(max(end, start), limit)
        self.last_end = end
        return round(start, 2), round(end, 2)
