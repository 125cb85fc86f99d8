"""The Voice notes pages over HTTP: upload answers, the player's byte ranges, and members kept apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from assistant.voice.models import VoiceNote
from tests.support.speech import noise_wav
from tests.support.voice import audio_upload, note_transcribed, voice_collections_drop

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def _voice_vectors(chroma_server: str, inline_jobs: list[int]) -> None:
    voice_collections_drop()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_offers_recording_and_upload(alice: Any) -> None:
    html = client_for(alice).get("/voice/").content.decode()
    assert "Record a note" in html
    assert "Upload a recording" in html
    assert "No voice notes yet" in html
    assert "coming soon" not in html.lower()


def test_an_upload_answers_with_the_queued_note(alice: Any, speech_ogg: Path) -> None:
    response = client_for(alice).post("/voice/upload/", {"file": audio_upload(speech_ogg), "model": "tiny.en"}, **JSON)
    assert response.status_code == 201
    note = response.json()["note"]
    assert note["status"] == "queued"
    assert note["title"] == "three"
    assert note["duration_label"] == "0:15"


def test_a_silent_upload_gets_its_message_and_nothing_is_kept(alice: Any, tmp_path: Path) -> None:
    path = noise_wav(path=tmp_path / "quiet.wav", seconds=3, level=0)
    response = client_for(alice).post("/voice/upload/", {"file": audio_upload(path)}, **JSON)
    assert response.status_code == 400
    assert (
        response.json()["error"] == "“quiet.wav” is silent: there is no sound in it. Check that the microphone was on."
    )
    assert not VoiceNote.objects.exists()


def test_a_plain_form_upload_with_a_bad_file_shows_the_message(alice: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(alice).post("/voice/upload/", {"file": SimpleUploadedFile("x.mp3", b"")}, follow=True)
    assert "“x.mp3” is empty (0 bytes)." in response.content.decode()


def test_the_transcript_page_shows_segments_with_times(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    html = client_for(alice).get(f"/voice/{note.pk}/?t=5").content.decode()
    assert 'data-start="5"' in html
    assert html.count('class="voice-seg"') == 3
    assert "0:00" in html
    assert "before winter" in html


def test_the_audio_is_served_in_byte_ranges(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    client = client_for(alice)
    whole = client.get(f"/voice/{note.pk}/audio/")
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    size = int(whole["Content-Length"])
    part = client.get(f"/voice/{note.pk}/audio/", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    assert b"".join(part.streaming_content) == speech_ogg.read_bytes()[100:200]
    tail = client.get(f"/voice/{note.pk}/audio/", HTTP_RANGE="bytes=-10")
    assert tail["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    outside = client.get(f"/voice/{note.pk}/audio/", HTTP_RANGE=f"bytes={size + 5}-")
    assert outside.status_code == 416


def test_another_member_gets_404_everywhere(alice: Any, bob: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    client = client_for(bob)
    for path in (f"/voice/{note.pk}/", f"/voice/{note.pk}/audio/"):
        assert client.get(path).status_code == 404
    for path in ("rename", "segments/0", "cancel", "retry", "delete"):
        assert client.post(f"/voice/{note.pk}/{path}/", {"title": "x", "text": "x"}).status_code == 404
    assert VoiceNote.objects.get(pk=note.pk).title == "Kitchen note"
    assert "Kitchen note" not in client.get("/voice/?q=boiler").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(alice: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    for path in ("/voice/", f"/voice/{note.pk}/", f"/voice/{note.pk}/audio/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
