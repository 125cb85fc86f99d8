"""Push-to-talk's server side: a short recording becomes text in a job of the media queue, only its
owner can read it, and neither a voice note nor the recording is left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.registry import kind_spec
from assistant.jobs.runner import job_execute
from assistant.voice.models import VoiceNote
from tests.support.speech import noise_wav
from tests.support.voice import audio_upload

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"HTTP_ACCEPT": "application/json"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dictation_folder(user: Any) -> Path:
    return settings.DATA_DIR / "users" / str(user.pk) / "dictation"


def test_a_spoken_message_becomes_text_for_its_owner_only(
    alice: Any, bob: Any, sentence_wav: Path, inline_jobs: list[int]
) -> None:
    web = client_for(alice)
    response = web.post("/voice/dictate/", {"file": audio_upload(sentence_wav, content_type="audio/wav")}, **JSON)
    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert job["status"] == "queued"
    assert kind_spec("voice_dictate").queue == "media"  # Whisper runs in a worker, never in the web process
    assert inline_jobs == [job["id"]]
    assert web.get(f"/voice/dictate/{job['id']}/").json()["text"] == ""

    job_execute(job_id=job["id"], worker="test")
    result = web.get(f"/voice/dictate/{job['id']}/").json()
    assert result["job"]["status"] == "succeeded"
    assert "boiler" in result["text"].lower()
    assert client_for(bob).get(f"/voice/dictate/{job['id']}/").status_code == 404
    assert not VoiceNote.objects.exists()
    assert list(dictation_folder(alice).iterdir()) == []


def test_silence_and_no_speech_are_said_in_words(alice: Any, tmp_path: Path, inline_jobs: list[int]) -> None:
    web = client_for(alice)
    silent = noise_wav(path=tmp_path / "silent.wav", seconds=2, level=0)
    response = web.post("/voice/dictate/", {"file": audio_upload(silent, content_type="audio/wav")}, **JSON)
    assert response.status_code == 400
    assert "silent" in response.json()["error"]
    assert list(dictation_folder(alice).iterdir()) == []

    hiss = noise_wav(path=tmp_path / "hiss.wav", seconds=3, level=0.01)
    response = web.post("/voice/dictate/", {"file": audio_upload(hiss, content_type="audio/wav")}, **JSON)
    assert response.status_code == 202
    job_execute(job_id=response.json()["job"]["id"], worker="test")
    job = Job.objects.get(kind="voice_dictate", owner=alice)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("No speech was heard in the recording.")
    assert list(dictation_folder(alice).iterdir()) == []


def test_a_long_recording_is_refused_with_what_to_do_instead(
    alice: Any, tmp_path: Path, inline_jobs: list[int]
) -> None:
    long = noise_wav(path=tmp_path / "long.wav", seconds=200, level=0.05)
    response = client_for(alice).post("/voice/dictate/", {"file": audio_upload(long, content_type="audio/wav")}, **JSON)
    assert response.status_code == 400
    assert "at most 3:00" in response.json()["error"]
    assert "Voice page" in response.json()["error"]
    assert not Job.objects.exists()
