"""Real speech for the voice tests: espeak-ng says sentences into WAV files, PyAV re-encodes them.

Nothing here is mocked: the files are what a phone or a recorder would hand Hearth (Opus in WebM or
Ogg, MP3, AAC in M4A, FLAC, WAV), made from speech synthesised on this machine.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import av
import numpy as np

# Sentences espeak-ng says clearly; no digits, so what is heard is spelt one way.
SENTENCES = (
    "The boiler in the kitchen needs a new pressure valve before winter.",
    "Please remember to buy milk, bread and fresh eggs on the way home.",
    "The plumber said the pipes under the sink were leaking slowly.",
    "We should paint the garden fence green when the weather is dry.",
    "My sister is coming to visit us next weekend with her two children.",
    "The library books are due back on Friday afternoon.",
    "Turn off the lights in the living room before going to bed.",
    "The car needs new tyres and an oil change this month.",
    "Grandmother's recipe for apple pie uses cinnamon and brown sugar.",
    "The cat knocked a glass of water off the kitchen table.",
    "Call the dentist tomorrow morning to move the appointment.",
    "The electricity bill was much higher than last winter.",
    "Our neighbours are planning a party in the park on Sunday.",
    "Water the tomato plants in the greenhouse every evening.",
    "The washing machine makes a loud noise when it spins.",
    "Put the winter coats in the cupboard under the stairs.",
    "The children want to go swimming at the lake this summer.",
    "Check that the back door is locked before we leave.",
    "The new sofa will be delivered on Thursday between nine and noon.",
    "Remember to take the recycling bins out on Tuesday night.",
    "The internet router in the hallway keeps losing its connection.",
    "Book a table at the Italian restaurant for our anniversary.",
)


def espeak_wav(*, text: str, path: Path, speed: int = 150, voice: str = "en-us") -> Path:
    """text spoken by espeak-ng into a 22.05 kHz mono WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, timeout=60)
    return path


def wav_read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        rate, frames = handle.getframerate(), handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype=np.int16), rate


def wav_write(*, path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    """int16 samples (interleaved when channels > 1) into a WAV file."""
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.astype(np.int16).tobytes())
    return path


def speech_with_pauses(*, texts: list[str], path: Path, pause: float = 1.0) -> tuple[Path, list[float]]:
    """Several sentences with `pause` seconds of silence between them; also each sentence's start."""
    parts, starts, at = [], [], 0.0
    rate = 22050
    for n, text in enumerate(texts):
        samples, rate = wav_read(espeak_wav(text=text, path=path.with_name(f".part{n}.wav")))
        starts.append(at)
        gap = np.zeros(int(pause * rate), dtype=np.int16)
        parts += [samples, gap]
        at += (len(samples) + len(gap)) / rate
    return wav_write(path=path, samples=np.concatenate(parts), rate=rate), starts


def audio_convert(*, source: Path, target: Path, codec: str, rate: int | None = None, layout: str = "mono") -> Path:
    """Re-encode source into target's container (by suffix) with the given codec, rate and layout."""
    formats = {".webm": "webm", ".ogg": "ogg", ".opus": "ogg", ".mp3": "mp3", ".m4a": "ipod", ".flac": "flac"}
    with av.open(str(source)) as inp, av.open(str(target), "w", format=formats.get(target.suffix)) as out:
        in_stream = inp.streams.audio[0]
        out_rate = rate or (48000 if codec == "libopus" else in_stream.codec_context.sample_rate)
        stream = out.add_stream(codec, rate=out_rate, layout=layout)
        resampler = av.AudioResampler(format=stream.codec_context.format, layout=layout, rate=out_rate)
        frames = [*inp.decode(in_stream), None]
        for frame in frames:
            for converted in resampler.resample(frame):
                converted.pts = None
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return target


def stereo_96k_wav(*, source: Path, path: Path) -> Path:
    """The speech as a 96 kHz stereo WAV, as a studio recorder writes it."""
    with av.open(str(source)) as inp, av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=96000, layout="stereo")
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=96000)
        for frame in [*inp.decode(audio=0), None]:
            for converted in resampler.resample(frame):
                converted.pts = None
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


def noise_wav(*, path: Path, seconds: float, level: float, rate: int = 16000) -> Path:
    """Quiet white noise (a room with no one speaking); level=0 gives digital silence."""
    generator = np.random.default_rng(7)
    samples = generator.normal(0.0, level * 32767, int(seconds * rate)) if level else np.zeros(int(seconds * rate))
    return wav_write(path=path, samples=np.clip(samples, -32768, 32767), rate=rate)


def long_wav_header(*, path: Path, seconds: float, rate: int = 16000) -> Path:
    """A WAV that says it holds `seconds` of audio, written sparse (the disk holds almost nothing)."""
    data_bytes = int(seconds * rate) * 2
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.setnframes(int(seconds * rate))
        handle.writeframes(b"\x01\x00" * rate)
    with path.open("r+b") as handle:
        handle.seek(4)
        handle.write((36 + data_bytes).to_bytes(4, "little"))
        handle.seek(40)
        handle.write(data_bytes.to_bytes(4, "little"))
        handle.truncate(44 + data_bytes)
    return path
