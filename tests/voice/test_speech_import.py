"""Importing Whisper models on the Models page (issue 11): an OpenAI `.pt` checkpoint and a faster-whisper
folder, picked in the file browser, copied and loaded by a real worker; a fake refused with nothing kept;
the household's default speech model.

The checkpoint is a tiny random-weight one (tests/support/tiny_whisper.py); the folder is the packaged
tiny.en copied onto the "stick". The speech is espeak-ng's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.core.default_models import SPEECH
from assistant.models import ImportedSpeechModel, Job, JobStatus
from assistant.voice.decode import audio_windows
from assistant.voice.engines import DecodeOptions, FasterWhisperEngine, OpenAIWhisperEngine, engine_for
from assistant.voice.speech_models import speech_choices, speech_default_name, speech_model_choice
from tests.support.model_files import files_under, models_dir_fixture, owner_client, wait_for_job  # noqa: F401
from tests.support.services import WorkerProcess
from tests.support.tiny_whisper import tiny_whisper_checkpoint

JSON = {"accept": "application/json"}
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stick(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "STICK"
    root.mkdir()
    settings.HEARTH_IMPORT_ROOTS = [root]
    return root


def import_selected(user: Any, *paths: str) -> list[dict[str, Any]]:
    response = owner_client(user).post("/models/import-selected/", {"root": "0", "path": list(paths)}, headers=JSON)
    assert response.status_code == 202, response.content
    jobs: list[dict[str, Any]] = response.json()["jobs"]
    return jobs


def test_a_whisper_pt_checkpoint_is_imported_checked_and_transcribes(
    stick: Path, olivia: Any, models_dir: Path, worker: WorkerProcess, sentence_wav: Path
) -> None:
    tiny_whisper_checkpoint(path=stick / "whisper" / "tiny-random.pt")
    listing = owner_client(olivia).get("/models/browse/?root=0&path=whisper", headers=JSON).json()["listing"]
    assert [entry["kind"] for entry in listing["entries"]] == ["whisper_pt"]

    (job,) = import_selected(olivia, "whisper/tiny-random.pt")

    finished = wait_for_job(job["id"], timeout=180)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    row = ImportedSpeechModel.objects.get()
    assert (row.name, row.engine, row.multilingual) == ("tiny-random", "pt", False)
    assert Path(row.path) == models_dir / "whisper" / "tiny-random.pt"
    assert row.parameters > 0
    assert row.size_bytes == Path(row.path).stat().st_size
    assert files_under(models_dir / ".incoming") == []

    engine = engine_for(model=row.path)  # what a voice note recorded with it runs
    assert isinstance(engine, OpenAIWhisperEngine)
    window = next(audio_windows(path=sentence_wav))
    options = DecodeOptions(language=None, condition_on_previous_text=False, temperatures=(0.0,), max_tokens=8)
    language, raw = engine.transcribe(samples=window.samples, options=options)
    assert language == "en"
    for segment in raw:  # random weights say nonsense, but in the engine's shape and inside the audio
        assert 0.0 <= segment.start <= segment.end <= 30.0

    page = owner_client(olivia).get("/models/").content.decode()
    assert "tiny-random" in page
    assert "OpenAI Whisper checkpoint" in page


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04 this is not a checkpoint at all" * 20, "could not be loaded as an OpenAI Whisper checkpoint"),
        ("torch-dict", "not an OpenAI Whisper checkpoint"),
    ],
    ids=["fake", "other-pytorch-file"],
)
def test_a_fake_pt_is_refused_with_a_clear_error_and_nothing_kept(
    stick: Path, olivia: Any, models_dir: Path, worker: WorkerProcess, content: Any, expected: str
) -> None:
    fake = stick / "large-v3.pt"
    if content == "torch-dict":
        import torch

        torch.save({"weights": torch.zeros(4)}, fake)
    else:
        fake.write_bytes(content)

    (job,) = import_selected(olivia, "large-v3.pt")

    finished = wait_for_job(job["id"], timeout=120)
    assert finished.status == JobStatus.FAILED
    assert expected in finished.error
    assert not ImportedSpeechModel.objects.exists()
    assert files_under(models_dir) == []
    assert fake.is_file()


def test_a_faster_whisper_folder_is_imported_and_becomes_the_default(
    stick: Path, olivia: Any, alice: Any, models_dir: Path, worker: WorkerProcess
) -> None:
    source = SPEECH.path()
    assert source is not None
    shutil.copytree(source, stick / "faster-whisper-tiny.en")
    listing = owner_client(olivia).get("/models/browse/?root=0", headers=JSON).json()["listing"]
    assert [(e["name"], e["kind"]) for e in listing["entries"]] == [("faster-whisper-tiny.en", "whisper_folder")]

    (job,) = import_selected(olivia, "faster-whisper-tiny.en")

    assert wait_for_job(job["id"], timeout=180).status == JobStatus.SUCCEEDED
    row = ImportedSpeechModel.objects.get()
    assert (row.engine, row.multilingual) == ("ct2", False)
    assert isinstance(engine_for(model=row.path), FasterWhisperEngine)

    assert owner_client(alice).post("/models/speech/default/", {"model": row.path}).status_code == 403
    assert speech_default_name() == "base"
    response = owner_client(olivia).post("/models/speech/default/", {"model": row.path}, follow=True)
    assert "New voice notes are transcribed with this model" in response.content.decode()
    assert speech_default_name() == row.path == speech_model_choice(None) == speech_choices()[0][0]
    assert speech_model_choice("tiny.en") == "tiny.en"

    owner_client(olivia).post(f"/models/speech/{row.pk}/delete/")
    assert not ImportedSpeechModel.objects.exists()
    assert not Path(row.path).exists()
    assert speech_default_name() == "base"  # back to HEARTH_VOICE_MODEL


def test_an_incomplete_faster_whisper_folder_is_refused_before_any_job(stick: Path, olivia: Any) -> None:
    folder = stick / "half-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\x00" * 100)
    (folder / "config.json").write_text("{}")
    response = owner_client(olivia).post(
        "/models/import-selected/", {"root": "0", "path": ["half-model"]}, headers=JSON
    )
    assert response.status_code == 400
    assert "tokenizer.json is missing" in response.json()["error"]
    assert not Job.objects.exists()
