"""One small class per speech engine; each model is loaded on first use, once per process.

- `FasterWhisperEngine`: a CTranslate2 folder (the packaged base and tiny.en, or one the household
  imports) run by faster-whisper, int8 on the CPU, with its Silero voice-activity filter on.
- `OpenAIWhisperEngine`: an original OpenAI Whisper `.pt` checkpoint run by the openai-whisper package
  (torch, fp32 on the CPU). It is handed samples decoded by PyAV, so it never calls ffmpeg.

Both take one window of 16 kHz mono samples and give segments with times relative to that window.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.voice.decode import Samples

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # Whisper's fallback when a decode looks like a loop
COMPRESSION_RATIO_LIMIT = 2.4
LOGPROB_LIMIT = -1.0
NO_SPEECH_LIMIT = 0.6
_load_lock = threading.Lock()


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None  # None: detect
    condition_on_previous_text: bool
    beam_size: int = 1
    vad: bool = True
    temperatures: tuple[float, ...] = TEMPERATURES
    max_tokens: int | None = None  # per 30 s window; None: the model's own limit


@dataclass(frozen=True)
class RawSegment:
    """A segment as the engine gave it, times in seconds from the start of its window."""

    start: float
    end: float
    text: str
    no_speech_prob: float
    avg_logprob: float


class SpeechEngine(Protocol):
    label: str

    @property
    def multilingual(self) -> bool: ...

    def transcribe(self, *, samples: Samples, options: DecodeOptions) -> tuple[str, Iterator[RawSegment]]:
        """(language, segments); the segments are produced as they are read."""
        ...


def cpu_threads() -> int:
    """HEARTH_VOICE_THREADS, or every core (0)."""
    from django.conf import settings

    configured = int(settings.HEARTH_VOICE_THREADS)
    return configured if configured > 0 else os.cpu_count() or 1


@functools.lru_cache(maxsize=2)
def _ct2_model(folder: str, threads: int) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=threads)


@functools.lru_cache(maxsize=1)
def _pt_model(checkpoint: str) -> Any:
    import whisper

    return whisper.load_model(checkpoint, device="cpu")


class FasterWhisperEngine:
    def __init__(self, *, folder: Path, label: str = "", threads: int | None = None) -> None:
        self.folder = folder
        self.label = label or folder.name
        self.threads = threads or cpu_threads()

    def model(self) -> Any:
        with _load_lock:
            return _ct2_model(str(self.folder), self.threads)

    @property
    def multilingual(self) -> bool:
        return bool(self.model().model.is_multilingual)

    def transcribe(self, *, samples: Samples, options: DecodeOptions) -> tuple[str, Iterator[RawSegment]]:
        segments, info = self.model().transcribe(
            samples,
            language=options.language if self.multilingual else "en",
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            max_new_tokens=options.max_tokens,
            compression_ratio_threshold=COMPRESSION_RATIO_LIMIT,
            log_prob_threshold=LOGPROB_LIMIT,
            no_speech_threshold=NO_SPEECH_LIMIT,
            condition_on_previous_text=options.condition_on_previous_text,
            vad_filter=options.vad,
            vad_parameters={"min_silence_duration_ms": 500},
        )
        raw = (
            RawSegment(float(s.start), float(s.end), str(s.text), float(s.no_speech_prob), float(s.avg_logprob))
            for s in segments
        )
        return str(info.language), raw


class OpenAIWhisperEngine:
    def __init__(self, *, checkpoint: Path, label: str = "") -> None:
        self.checkpoint = checkpoint
        self.label = label or checkpoint.stem

    def model(self) -> Any:
        with _load_lock:
            return _pt_model(str(self.checkpoint))

    @property
    def multilingual(self) -> bool:
        return bool(self.model().is_multilingual)

    def transcribe(self, *, samples: Samples, options: DecodeOptions) -> tuple[str, Iterator[RawSegment]]:
        import whisper

        result = whisper.transcribe(
            self.model(),
            samples,
            language=options.language if self.multilingual else "en",
            temperature=options.temperatures,
            sample_len=options.max_tokens,
            compression_ratio_threshold=COMPRESSION_RATIO_LIMIT,
            logprob_threshold=LOGPROB_LIMIT,
            no_speech_threshold=NO_SPEECH_LIMIT,
            condition_on_previous_text=options.condition_on_previous_text,
            fp16=False,
            verbose=None,
        )
        raw = (
            RawSegment(
                float(s["start"]), float(s["end"]), str(s["text"]), float(s["no_speech_prob"]), float(s["avg_logprob"])
            )
            for s in result["segments"]
        )
        return str(result.get("language") or "en"), raw


def engine_for(*, model: str) -> SpeechEngine:
    """The engine for a packaged model name ("base", "tiny.en"), a CTranslate2 folder, or a `.pt` file."""
    from assistant.voice.weights import MODELS, WeightsMissing, model_folder

    if model in MODELS:
        return FasterWhisperEngine(folder=model_folder(name=model), label=model)
    path = Path(model)
    if path.suffix == ".pt" and path.is_file():
        return OpenAIWhisperEngine(checkpoint=path)
    if (path / "model.bin").is_file():
        return FasterWhisperEngine(folder=path)
    raise WeightsMissing(f"No speech model at {model}: expected a CTranslate2 folder or a Whisper .pt file.")
