"""Audio decoded through PyAV to 16 kHz mono float32, a window at a time.

Whisper reads 16 kHz mono. faster-whisper's own `decode_audio` returns the whole file as one array
(a 2-hour note would be 460 MB); here the file is decoded as a stream and handed on in windows of a
few minutes, each cut at the quietest moment near its end so that no word is split between windows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
WINDOW_SECONDS = 300.0  # about 19 MB of samples in memory at a time
SEARCH_SECONDS = 4.0  # where, before a window's end, the quietest cut is looked for
FRAME = SAMPLE_RATE // 50  # 20 ms

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class AudioWindow:
    """A stretch of the recording: its samples and where it starts, in seconds."""

    offset: float
    samples: Samples

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def audio_frames(*, path: Path, strict: bool = False) -> Iterator[Samples]:
    """The file's audio as 16 kHz mono float32 chunks, decoded as it is read.

    With strict=False, undecodable packets are skipped (as faster-whisper does), so a recording cut off
    at the end is transcribed up to the cut; intake uses strict=True to tell the member about damage.
    """
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                if strict:
                    raise
                continue
            for frame in frames:
                frame.pts = None  # the resampler keeps its own clock; broken timestamps do not matter here
                yield from _converted(resampler.resample(frame))
        yield from _converted(resampler.resample(None))


def _converted(frames: Sequence[AudioFrame]) -> Iterator[Samples]:
    for frame in frames:
        array = frame.to_ndarray()
        yield (array.reshape(-1).astype(np.float32) / 32768.0).astype(np.float32)


def quiet_cut(samples: Samples, *, start: int, stop: int) -> int:
    """The sample index in [start, stop) at the start of the quietest 20 ms frame."""
    region = samples[start:stop]
    count = len(region) // FRAME
    if count < 2:
        return stop
    energy = np.square(region[: count * FRAME].reshape(count, FRAME)).mean(axis=1)
    return start + int(np.argmin(energy)) * FRAME


def audio_windows(
    *, path: Path, window_seconds: float = WINDOW_SECONDS, search_seconds: float = SEARCH_SECONDS
) -> Iterator[AudioWindow]:
    """The recording in windows of about window_seconds, each ending at a quiet moment."""
    window = int(window_seconds * SAMPLE_RATE)
    search = min(int(search_seconds * SAMPLE_RATE), window // 2)
    pending: list[Samples] = []
    held, offset = 0, 0
    for chunk in audio_frames(path=path):
        pending.append(chunk)
        held += len(chunk)
        if held < window + search:
            continue
        buffer = np.concatenate(pending)
        cut = quiet_cut(buffer, start=window - search, stop=window)
        yield AudioWindow(offset=offset / SAMPLE_RATE, samples=buffer[:cut])
        offset += cut
        pending, held = [buffer[cut:].copy()], len(buffer) - cut
    if held:
        yield AudioWindow(offset=offset / SAMPLE_RATE, samples=np.concatenate(pending))
