"""Audio intake: every format a phone or recorder gives is accepted; each bad file gets its own message."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from PIL import Image

from assistant.voice.decode import SAMPLE_RATE, audio_windows
from assistant.voice.intake import AudioRejected, audio_inspect, clock
from tests.support.speech import audio_convert, long_wav_header, noise_wav, stereo_96k_wav

FORMATS = [
    (".webm", "libopus", "opus"),
    (".ogg", "libopus", "opus"),
    (".mp3", "libmp3lame", "mp3float"),
    (".m4a", "aac", "aac"),
    (".flac", "flac", "flac"),
]


def rejection(path: Path, name: str | None = None) -> str:
    with pytest.raises(AudioRejected) as caught:
        audio_inspect(path=path, name=name or path.name)
    return str(caught.value)


@pytest.mark.parametrize(("suffix", "codec", "decoder"), FORMATS)
def test_it_accepts_each_recording_format(
    speech_wav: tuple[Path, list[float]], tmp_path: Path, suffix: str, codec: str, decoder: str
) -> None:
    path = audio_convert(source=speech_wav[0], target=tmp_path / f"note{suffix}", codec=codec)
    info = audio_inspect(path=path, name=path.name)
    assert info.codec == decoder
    assert info.duration == pytest.approx(15.2, abs=0.4)
    assert info.warning == ""


def test_it_accepts_the_plain_wav(speech_wav: tuple[Path, list[float]]) -> None:
    info = audio_inspect(path=speech_wav[0])
    assert (info.codec, info.sample_rate, info.channels) == ("pcm_s16le", 22050, 1)
    assert info.description == "pcm_s16le, 22.05 kHz mono, 0:15"


def test_stereo_96_khz_is_accepted_and_mixed_down_to_16_khz_mono(
    speech_wav: tuple[Path, list[float]], tmp_path: Path
) -> None:
    path = stereo_96k_wav(source=speech_wav[0], path=tmp_path / "studio.wav")
    info = audio_inspect(path=path)
    assert (info.sample_rate, info.channels) == (96000, 2)
    assert "96 kHz stereo" in info.description
    windows = list(audio_windows(path=path))
    assert len(windows) == 1
    assert windows[0].samples.ndim == 1
    assert len(windows[0].samples) / SAMPLE_RATE == pytest.approx(info.duration, abs=0.05)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "note.webm"
    path.write_bytes(b"")
    assert rejection(path) == "“note.webm” is empty (0 bytes). If it was just recorded, record it again."


def test_a_jpeg_renamed_mp3_is_named_for_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "holiday.mp3"
    Image.new("RGB", (64, 64), "red").save(path, format="JPEG")
    assert (
        rejection(path)
        == "“holiday.mp3” is a JPEG image, not a recording, whatever its name says. Choose an audio file."
    )


def test_random_bytes_are_refused_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "note.mp3"
    path.write_bytes(bytes(range(256)) * 40)
    assert "could not be read as audio" in rejection(path)


def test_a_truncated_ogg_is_accepted_up_to_the_cut_with_a_warning(speech_ogg: Path, tmp_path: Path) -> None:
    data = speech_ogg.read_bytes()
    path = tmp_path / "cut.ogg"
    path.write_bytes(data[: len(data) // 2])
    info = audio_inspect(path=path, name="cut.ogg")
    assert "ends abruptly at 0:0" in info.warning
    assert "cut off" in info.warning
    assert 4 < info.duration < 10


def test_an_ogg_cut_inside_its_header_is_refused(speech_ogg: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.ogg"
    path.write_bytes(speech_ogg.read_bytes()[:200])
    assert "could not be read as audio" in rejection(path)


def test_a_ten_hour_file_is_over_the_size_limit(tmp_path: Path) -> None:
    path = long_wav_header(path=tmp_path / "ten-hours.wav", seconds=10 * 3600)
    assert rejection(path) == "“ten-hours.wav” is 1152 MB; a voice note can be at most 500 MB."


@override_settings(HEARTH_VOICE_MAX_MB=2000)
def test_a_ten_hour_file_under_the_size_limit_is_over_the_length_limit(tmp_path: Path) -> None:
    path = long_wav_header(path=tmp_path / "ten-hours.wav", seconds=10 * 3600)
    message = rejection(path)
    assert message.startswith("“ten-hours.wav” is 10:00:00 long; a voice note can be at most 4:00:00.")


def test_pure_silence_is_refused(tmp_path: Path) -> None:
    path = noise_wav(path=tmp_path / "quiet.wav", seconds=5, level=0)
    assert rejection(path) == "“quiet.wav” is silent: there is no sound in it. Check that the microphone was on."


def test_clock_shows_minutes_and_hours() -> None:
    assert [clock(s) for s in (0, 102.9, 3723)] == ["0:00", "1:42", "1:02:03"]
