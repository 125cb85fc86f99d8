"""Speech files shared by the voice tests, made once per session with espeak-ng and PyAV."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.speech import SENTENCES, audio_convert, espeak_wav, speech_with_pauses

SPOKEN = list(SENTENCES[:3])  # the three sentences of `speech_wav`, in order


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def speech_wav(speech_dir: Path) -> tuple[Path, list[float]]:
    """Three sentences with a second of silence between them (about 15 s), and each sentence's start."""
    return speech_with_pauses(texts=SPOKEN, path=speech_dir / "three.wav")


@pytest.fixture(scope="session")
def speech_ogg(speech_wav: tuple[Path, list[float]], speech_dir: Path) -> Path:
    return audio_convert(source=speech_wav[0], target=speech_dir / "three.ogg", codec="libopus")


@pytest.fixture(scope="session")
def sentence_wav(speech_dir: Path) -> Path:
    return espeak_wav(text=SENTENCES[0], path=speech_dir / "one.wav")
