"""The transcription job on a real Celery worker (media queue): live progress, cancel mid-note, and a
worker killed mid-note whose job is taken up again without a duplicate segment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assistant.jobs.models import Job, JobEvent, JobStatus
from assistant.jobs.services import job_cancel
from assistant.voice.index import segment_vectors_count
from assistant.voice.models import Segment, VoiceNote, VoiceNoteStatus
from assistant.voice.services import voice_upload
from tests.support.services import WorkerProcess, wait_for
from tests.support.speech import SENTENCES, audio_convert, speech_with_pauses
from tests.support.voice import audio_upload, voice_collections_drop

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
TEXTS = list(SENTENCES[:12])


@pytest.fixture(scope="module")
def five_minute_ogg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that a cancel sent at 10% lands mid-note even on a fast, idle machine."""
    folder = tmp_path_factory.mktemp("five")
    wav, _ = speech_with_pauses(texts=TEXTS * 5, path=folder / "sixty.wav")
    return audio_convert(source=wav, target=folder / "sixty.ogg", codec="libopus")


@pytest.fixture(autouse=True)
def _voice_vectors(chroma_server: str) -> None:
    voice_collections_drop()


def _running_past(note: VoiceNote, fraction: float) -> bool:
    job = Job.objects.get(pk=note.job_id)
    return job.status == JobStatus.RUNNING and job.progress >= fraction


def test_progress_is_reported_and_a_killed_worker_restarts_the_note_cleanly(
    alice: Any, worker: WorkerProcess, five_minute_ogg: Path
) -> None:
    # Five minutes of speech: on an idle machine tiny.en does a minute of it in about a second and a half,
    # so the kill at 30% must land mid-note, not after the end.
    note = voice_upload(owner=alice, upload=audio_upload(five_minute_ogg), title="Long note", model="tiny.en")
    wait_for(lambda: _running_past(note, 0.3), timeout=120, what="the transcription to pass 30%")
    worker.kill()
    worker.start()
    wait_for(
        lambda: Job.objects.get(pk=note.job_id).status == JobStatus.SUCCEEDED,
        timeout=180,
        what="the note to be transcribed after the restart",
        interval=0.3,
    )
    job = Job.objects.get(pk=note.job_id)
    assert VoiceNote.objects.get(pk=note.pk).status == VoiceNoteStatus.READY
    assert job.attempts >= 2
    numbers = list(Segment.objects.filter(note_id=note.pk).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(len(numbers)))
    assert len(numbers) >= len(TEXTS)
    assert segment_vectors_count(owner_id=alice.pk, note_id=note.pk) == len(numbers)
    messages = list(JobEvent.objects.filter(job=job).values_list("message", flat=True))
    assert any(re.match(r"Transcribed \d+:\d\d of \d+:\d\d", message) for message in messages), messages


def test_cancel_mid_note_stops_between_segments_and_keeps_no_segment(
    alice: Any, worker: WorkerProcess, five_minute_ogg: Path
) -> None:
    note = voice_upload(owner=alice, upload=audio_upload(five_minute_ogg), title="Long note", model="tiny.en")
    wait_for(lambda: _running_past(note, 0.1), timeout=120, what="the transcription to start")
    job_cancel(job=Job.objects.get(pk=note.job_id))
    wait_for(
        lambda: Job.objects.get(pk=note.job_id).status == JobStatus.CANCELLED,
        timeout=60,
        what="the job to stop",
        interval=0.2,
    )
    note.refresh_from_db()
    assert note.effective_status == VoiceNoteStatus.CANCELLED
    assert not Segment.objects.filter(note_id=note.pk).exists()
