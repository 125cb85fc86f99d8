"""Voice notes for tests: uploads of real espeak-ng speech, run through the real transcription job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile


def audio_upload(path: Path, *, name: str | None = None, content_type: str = "audio/ogg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=content_type)


def note_transcribed(*, owner: Any, path: Path, title: str = "Kitchen note", model: str = "tiny.en") -> Any:
    """Upload `path` for `owner` and run its transcription job here, as a worker would; the note, refreshed."""
    from assistant.jobs.runner import job_execute
    from assistant.voice.services import voice_upload

    note = voice_upload(owner=owner, upload=audio_upload(path), title=title, model=model, language="en")
    job_execute(job_id=note.job_id, worker="test")
    note.refresh_from_db()
    return note


def voice_collections_drop() -> None:
    """Remove every member's voice collection, so ids repeating between tests never meet old vectors."""
    from assistant.core.vectors import chroma_client, collection_forget
    from assistant.voice import index

    client = chroma_client()
    for collection in client.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        if name.startswith(index.COLLECTION_PREFIX):
            client.delete_collection(name)
    collection_forget()
