"""Transcribes a recording window by window: progress after each segment, cancel between segments.

`TranscriptStream` decodes the file as a stream (assistant.voice.decode), hands each window to the
engine, and passes every segment through the guards (assistant.voice.guards) before yielding it with
times counted from the start of the recording. The language is detected on the first window (unless
chosen) and kept for the rest, so one note does not change language halfway. Audio with no speech
ends in `NoSpeech`, never in invented text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.voice.decode import WINDOW_SECONDS, AudioWindow, audio_windows
from assistant.voice.engines import DecodeOptions, SpeechEngine
from assistant.voice.guards import SegmentFilter, segment_is_speech

# Above this length the text of one segment is not fed into the next: it is what turns a slip into a loop.
CONDITION_MAX_SECONDS = 120.0
NO_SPEECH_MESSAGE = "No speech found in this recording."


class NoSpeech(Exception):
    """Nothing in the recording was speech."""


class TranscriptionCancelled(Exception):
    """The caller asked to stop between segments."""


@dataclass(frozen=True)
class Segment:
    """One line of a transcript, times in seconds from the start of the recording."""

    index: int
    start: float
    end: float
    text: str


@dataclass
class TranscriptStream:
    """Iterate it for segments; `language` is known once the first window has been read."""

    engine: SpeechEngine
    path: Path
    duration: float  # seconds, from intake; progress is measured against it
    language: str | None = None
    progress: Callable[[float], None] | None = None
    cancelled: Callable[[], bool] | None = None
    window_seconds: float = WINDOW_SECONDS
    beam_size: int = 1
    count: int = field(default=0, init=False)
    done: float = field(default=0.0, init=False)  # the largest fraction reported, so progress never goes back

    def _check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise TranscriptionCancelled

    def _report(self, seconds: float) -> None:
        fraction = min(1.0, seconds / self.duration) if self.duration > 0 else 0.0
        if self.progress is not None and fraction > self.done:
            self.done = fraction
            self.progress(fraction)

    def _options(self) -> DecodeOptions:
        return DecodeOptions(
            language=self.language,
            condition_on_previous_text=self.duration <= CONDITION_MAX_SECONDS,
            beam_size=self.beam_size,
        )

    def _window_segments(self, window: AudioWindow, guard: SegmentFilter) -> Iterator[Segment]:
        language, raw = self.engine.transcribe(samples=window.samples, options=self._options())
        self.language = self.language or language
        for segment in raw:
            self._check()
            text = guard.text_keep(segment.text)
            if text is None or not segment_is_speech(
                no_speech_prob=segment.no_speech_prob, avg_logprob=segment.avg_logprob
            ):
                continue
            start, end = guard.times(window.offset + segment.start, window.offset + segment.end)
            yield Segment(index=self.count, start=start, end=end, text=text)
            self.count += 1
            self._report(end)

    def __iter__(self) -> Iterator[Segment]:
        guard = SegmentFilter(duration=self.duration)
        for window in audio_windows(path=self.path, window_seconds=self.window_seconds):
            self._check()
            yield from self._window_segments(window, guard)
            self._report(window.offset + window.seconds)
        if self.count == 0:
            raise NoSpeech(NO_SPEECH_MESSAGE)


def speech_transcribe(
    *, engine: SpeechEngine, path: Path, duration: float, language: str | None = None
) -> list[Segment]:
    """Every segment of a short recording at once (tests, push-to-talk); notes iterate a TranscriptStream."""
    return list(TranscriptStream(engine=engine, path=path, duration=duration, language=language))
