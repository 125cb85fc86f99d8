"""Voice notes end to end in-process: upload, the transcription job, search, corrections, rename, delete."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.runner import job_execute
from assistant.voice.index import segment_vectors_count
from assistant.voice.intake import AudioRejected
from assistant.voice.models import Segment, VoiceNote, VoiceNoteStatus
from assistant.voice.search import voice_search
from assistant.voice.services import (
    voice_note_cancel,
    voice_note_delete,
    voice_note_path,
    voice_note_rename,
    voice_segment_edit,
    voice_upload,
)
from tests.support.speech import noise_wav
from tests.support.voice import audio_upload, note_transcribed, voice_collections_drop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _voice_vectors(chroma_server: str, inline_jobs: list[int]) -> None:
    voice_collections_drop()


def voice_files(owner: Any) -> list[Path]:
    folder = Path(settings.DATA_DIR) / "users" / str(owner.pk) / "voice"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_note_is_transcribed_indexed_and_found_at_its_second(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    assert note.status == VoiceNoteStatus.READY
    assert note.language == "en"
    segments = list(Segment.objects.filter(note=note).order_by("number"))
    assert [s.number for s in segments] == [0, 1, 2]
    assert note.segment_count == 3
    assert segment_vectors_count(owner_id=alice.pk, note_id=note.pk) == 3
    assert Job.objects.get(pk=note.job_id).status == JobStatus.SUCCEEDED

    hits = voice_search(owner=alice, query="plumber pipes leaking under the sink", limit=3)
    assert hits[0].number == 2
    assert hits[0].citation == f"Kitchen note, 0:{int(segments[2].start):02d}"
    assert hits[0].url == f"/voice/{note.pk}/?t={int(segments[2].start)}"


def test_a_restarted_transcription_leaves_no_duplicate_segments(alice: Any, speech_ogg: Path) -> None:
    note = voice_upload(owner=alice, upload=audio_upload(speech_ogg), title="Kitchen note", model="tiny.en")
    # What a worker killed mid-note leaves behind: some segments, and the job still running with a stale claim.
    Segment.objects.create(note=note, number=0, start=0.0, end=1.0, text="half")
    Segment.objects.create(note=note, number=1, start=1.0, end=2.0, text="written")
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=note.job_id).update(status=JobStatus.RUNNING, claim_token="dead", heartbeat_at=long_ago)
    job_execute(job_id=note.job_id, worker="test")
    note.refresh_from_db()
    assert note.status == VoiceNoteStatus.READY
    texts = list(Segment.objects.filter(note=note).order_by("number").values_list("number", "text"))
    assert [number for number, _ in texts] == [0, 1, 2]
    assert "half" not in " ".join(text for _, text in texts)
    assert segment_vectors_count(owner_id=alice.pk, note_id=note.pk) == 3


def test_noise_without_speech_ends_as_no_speech_found(alice: Any, tmp_path: Path) -> None:
    note = note_transcribed(owner=alice, path=noise_wav(path=tmp_path / "room.wav", seconds=8, level=0.01))
    assert note.status == VoiceNoteStatus.NO_SPEECH
    assert Job.objects.get(pk=note.job_id).message == "No speech found in this recording."
    assert not Segment.objects.filter(note=note).exists()


def test_a_cancelled_waiting_note_never_runs(alice: Any, speech_ogg: Path) -> None:
    note = voice_upload(owner=alice, upload=audio_upload(speech_ogg), model="tiny.en")
    note = voice_note_cancel(note=note)
    assert note.status == VoiceNoteStatus.CANCELLED
    job_execute(job_id=note.job_id, worker="test")
    assert not Segment.objects.filter(note=note).exists()


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.webm", b"", "is empty (0 bytes)"),
        ("holiday.mp3", b"\xff\xd8\xff\xe0" + b"\x00" * 2000, "is a JPEG image, not a recording"),
        ("junk.ogg", bytes(range(256)) * 20, "could not be read as audio"),
    ],
)
def test_a_refused_file_leaves_nothing_behind(alice: Any, name: str, payload: bytes, message: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(AudioRejected, match=re.escape(message)):
        voice_upload(owner=alice, upload=SimpleUploadedFile(name, payload, content_type="audio/mpeg"))
    assert not VoiceNote.objects.exists()
    assert not Job.objects.exists()
    assert voice_files(alice) == []


def test_a_correction_is_kept_and_searched(alice: Any, speech_ogg: Path, inline_jobs: list[int]) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    voice_segment_edit(note=note, number=1, text="Please remember to buy oat milk and sourdough bread.")
    segment = Segment.objects.get(note=note, number=1)
    assert segment.edited
    index_job = Job.objects.filter(kind="voice_index").latest("pk")
    job_execute(job_id=index_job.pk, worker="test")
    hits = voice_search(owner=alice, query="sourdough", limit=3)
    assert (hits[0].note.pk, hits[0].number) == (note.pk, 1)
    with pytest.raises(ValueError, match="cannot be empty"):
        voice_segment_edit(note=note, number=1, text="   ")


def test_a_rename_is_indexed_again_and_cited(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    voice_note_rename(note=note, title="Boiler plans")
    job_execute(job_id=Job.objects.filter(kind="voice_index").latest("pk").pk, worker="test")
    hits = voice_search(owner=alice, query="pressure valve before winter", limit=1)
    assert hits[0].citation.startswith("Boiler plans, 0:0")


def test_delete_removes_audio_rows_and_vectors(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    path = voice_note_path(note)
    assert path is not None
    assert path.is_file()
    note_id = note.pk
    voice_note_delete(note=note)
    assert not path.exists()
    assert not VoiceNote.objects.exists()
    assert not Segment.objects.exists()
    assert segment_vectors_count(owner_id=alice.pk, note_id=note_id) == 0


def test_members_never_find_each_others_notes(alice: Any, bob: Any, speech_ogg: Path) -> None:
    note_transcribed(owner=alice, path=speech_ogg)
    assert voice_search(owner=bob, query="boiler pressure valve", limit=5) == []
    assert voice_search(owner=alice, query="boiler pressure valve", limit=5)
