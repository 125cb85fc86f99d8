"""Checks an audio file before it becomes a voice note: size, format, duration, and that it decodes.

Everything is read in-process through PyAV (the FFmpeg libraries inside its wheel), as faster-whisper
reads audio, so no system ffmpeg is needed. Each refusal is an `AudioRejected` whose message is shown
to the member as it is. Short files are decoded whole (it takes well under a second); long ones are
checked on their first minute here and decoded in the transcription job, a window at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from assistant.voice.clock import clock
from assistant.voice.decode import audio_frames

__all__ = ["AudioInfo", "AudioRejected", "audio_inspect", "clock", "max_bytes", "max_seconds"]

FULL_CHECK_SECONDS = 15 * 60  # files up to this long are decoded whole at intake
PARTIAL_CHECK_SECONDS = 60.0
SILENCE_PEAK = 10 ** (-60 / 20)  # -60 dBFS: nothing above this is digital silence, not a quiet room
OGG_TAIL = 70_000  # an Ogg page is at most 65,307 bytes
FORMATS = "webm, ogg/opus, mp3, m4a/aac, wav or flac"

# What a file that is not audio starts with, to say what it is instead.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or an Office document)"),
    (b"\x7fELF", "a program"),
)


class AudioRejected(Exception):
    """The file cannot be a voice note; the message says why, in words for the member."""


@dataclass(frozen=True)
class AudioInfo:
    """What intake learnt about a recording."""

    size: int
    duration: float  # seconds
    container: str  # e.g. "ogg", "matroska,webm", "mp3"
    codec: str  # e.g. "opus", "mp3", "pcm_s16le"
    sample_rate: int
    channels: int
    warning: str = ""  # accepted, but the member should know (a file that ends abruptly)

    @property
    def description(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"{self.codec}, {self.sample_rate / 1000:g} kHz {layout}, {clock(self.duration)}"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size / 1_000_000:.0f} MB"


def max_bytes() -> int:
    return int(settings.HEARTH_VOICE_MAX_MB) * 1_000_000


def max_seconds() -> float:
    return float(settings.HEARTH_VOICE_MAX_HOURS) * 3600


def _sniff(path: Path, label: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(16)
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            raise AudioRejected(f"{label} is {kind}, not a recording, whatever its name says. Choose an audio file.")


def _open(path: Path, label: str) -> Any:
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioRejected(f"{label} could not be read as audio. It may be damaged, or not a {FORMATS} file.") from exc


def _duration(container: Any, stream: Any) -> float:
    """Length in seconds from the headers; MediaRecorder's WebM has none, so then from the last packet."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    container.seek(0)
    return end


def _probe(path: Path, label: str) -> tuple[str, str, int, int, float]:
    import av

    container = _open(path, label)
    with container:
        if not container.streams.audio:
            raise AudioRejected(f"{label} has no sound in it (no audio track).")
        stream = container.streams.audio[0]
        try:
            duration = _duration(container, stream)
        except av.error.FFmpegError as exc:
            raise AudioRejected(f"{label} is damaged: its audio cannot be read to the end.") from exc
        context = stream.codec_context
        return container.format.name, context.name, int(context.sample_rate or 0), int(context.channels or 0), duration


def _decode_check(path: Path, label: str, *, seconds: float | None) -> tuple[float, float]:
    """Decode (all of, or the start of) the file: (peak level, seconds decoded). Raises on damage or no audio."""
    import av

    peak, decoded = 0.0, 0
    try:
        for samples in audio_frames(path=path, strict=True):
            decoded += len(samples)
            if len(samples):
                peak = max(peak, float(abs(samples).max()))
            if seconds is not None and decoded >= seconds * 16000:
                break
    except av.error.FFmpegError as exc:
        where = f" after {clock(decoded / 16000)}" if decoded else ""
        raise AudioRejected(f"{label} is damaged or cut off{where}: its audio cannot be decoded.") from exc
    if decoded == 0:
        raise AudioRejected(f"{label} holds no audio that can be played (it may be cut off or damaged).")
    return peak, decoded / 16000


def _ogg_cut_off(path: Path) -> bool:
    """An Ogg file whose last page is incomplete or is not marked end-of-stream was cut off."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - OGG_TAIL))
        tail = handle.read()
    start = tail.rfind(b"OggS")
    if start < 0 or len(tail) < start + 27:
        return True
    segments = tail[start + 26]
    table = tail[start + 27 : start + 27 + segments]
    complete = len(table) == segments and start + 27 + segments + sum(table) <= len(tail)
    return not complete or not tail[start + 5] & 0x04


def _cut_off_warning(label: str, *, container: str, path: Path, duration: float, decoded: float | None) -> str:
    short = decoded is not None and decoded < duration - max(1.0, 0.05 * duration)
    if not short and not (container == "ogg" and _ogg_cut_off(path)):
        return ""
    at = clock(decoded if decoded is not None else duration)
    return f"{label} ends abruptly at {at}: the file looks cut off. What is there will be transcribed."


def audio_inspect(*, path: Path, name: str | None = None) -> AudioInfo:
    """Check a recording; its facts, or AudioRejected with the reason for the member."""
    label = f"“{name}”" if name else "This file"
    size = path.stat().st_size
    if size == 0:
        raise AudioRejected(f"{label} is empty (0 bytes). If it was just recorded, record it again.")
    if size > max_bytes():
        raise AudioRejected(f"{label} is {_megabytes(size)}; a voice note can be at most {_megabytes(max_bytes())}.")
    _sniff(path, label)
    container, codec, rate, channels, duration = _probe(path, label)
    if duration > max_seconds():
        raise AudioRejected(
            f"{label} is {clock(duration)} long; a voice note can be at most {clock(max_seconds())}. "
            "Split it into shorter recordings."
        )
    whole = duration <= FULL_CHECK_SECONDS
    peak, decoded = _decode_check(path, label, seconds=None if whole else PARTIAL_CHECK_SECONDS)
    if whole and peak < SILENCE_PEAK:
        raise AudioRejected(f"{label} is silent: there is no sound in it. Check that the microphone was on.")
    warning = _cut_off_warning(
        label, container=container, path=path, duration=duration, decoded=decoded if whole else None
    )
    return AudioInfo(
        size=size,
        duration=min(duration, decoded) if whole and warning else duration,
        container=container,
        codec=codec,
        sample_rate=rate,
        channels=channels,
        warning=warning,
    )
