"""Voice notes: upload (a recording or a file), rename, correct a segment, cancel, retry and delete.

Where things live:
  DATA_DIR/users/<owner>/voice/<random>.<ext>   the audio, under a name Hearth chose
  VoiceNote, Segment rows                        what the member sees, and the transcript
  the owner's Chroma collection "hearth_voice_<owner>"  one vector per segment, id f"{note}:{number}"

The transcription itself is the `voice_transcribe` job (assistant/voice/jobs.py). Callers check
ownership: every function here trusts the note it is given.
"""

from __future__ import annotations

import logging
import os
import unicodedata
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from assistant.core.events import event_publish
from assistant.core.storage import member_folder
from assistant.jobs.models import Job
from assistant.jobs.services import job_active, job_cancel_active, job_create
from assistant.voice.clock import clock
from assistant.voice.index import segment_vectors_delete
from assistant.voice.intake import AudioInfo, AudioRejected, audio_inspect, max_bytes
from assistant.voice.models import Segment, VoiceNote, VoiceNoteStatus
from assistant.voice.remux import audio_remux_if_unseekable
from assistant.voice.weights import MODELS

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

log = logging.getLogger(__name__)

FOLDER = "voice"
KIND_TRANSCRIBE = "voice_transcribe"
KIND_INDEX = "voice_index"
MAX_TITLE = 200
# Container (as PyAV names it) -> the suffix the file is kept under and the type the player is told.
CONTAINERS: dict[str, tuple[str, str]] = {
    "matroska,webm": (".webm", "audio/webm"),
    "ogg": (".ogg", "audio/ogg"),
    "mp3": (".mp3", "audio/mpeg"),
    "mov,mp4,m4a,3gp,3g2,mj2": (".m4a", "audio/mp4"),
    "wav": (".wav", "audio/wav"),
    "flac": (".flac", "audio/flac"),
}
LANGUAGES = {
    "en": "English", "de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "nl": "Dutch",
    "pt": "Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
    "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "ja": "Japanese", "zh": "Chinese",
}  # fmt: skip


def note_payload(note: VoiceNote) -> dict[str, Any]:
    """What a page shows of a note, also pushed to the owner's pages when it changes."""
    job = note.job
    active = job is not None and job.is_active
    return {
        "id": note.pk,
        "title": note.title,
        "duration": round(note.duration, 2),
        "duration_label": clock(note.duration),
        "size_bytes": note.size_bytes,
        "language": note.language,
        "language_label": LANGUAGES.get(note.language, note.language),
        "model": note.model if note.model in MODELS else Path(note.model).name,
        "status": note.effective_status,
        "status_label": VoiceNoteStatus(note.effective_status).label,
        "error": note.effective_error,
        "warning": note.warning,
        "segment_count": note.segment_count,
        "progress": round(job.progress, 4) if active and job is not None else 0,
        "message": job.message if active and job is not None else "",
        "job": note.job_id,
        "created_at": note.created_at.isoformat(),
        "url": f"/voice/{note.pk}/",
    }


def note_publish(*, note_id: int) -> None:
    note = VoiceNote.objects.select_related("job").filter(pk=note_id).first()
    if note is None:
        return
    try:
        event_publish(user_id=note.owner_id, event={"type": "voice", "note": note_payload(note)})
    except Exception:  # a push that fails must never fail the work; the page re-reads the row
        log.warning("could not push voice note %s", note_id, exc_info=True)


def title_clean(raw: str, *, fallback: str = "Voice note") -> str:
    """A title to show: no control characters, spaces collapsed, at most MAX_TITLE characters."""
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in unicodedata.normalize("NFC", raw))
    text = " ".join(text.split())[:MAX_TITLE].strip()
    return text or fallback


def _title_from_name(name: str) -> str:
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return title_clean(stem.replace("_", " "))


def _store(upload: UploadedFile[bytes], folder: Path, label: str) -> Path:
    """Stream the upload into a private .part file, refusing it as soon as it passes the size limit."""
    partial = folder / f"{uuid.uuid4().hex}.part"
    size = 0
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        for piece in upload.chunks():
            size += len(piece)
            if size > max_bytes():
                out.close()
                partial.unlink(missing_ok=True)
                raise AudioRejected(f"{label} is larger than the {max_bytes() // 1_000_000} MB limit for voice notes.")
            out.write(piece)
    return partial


def _model_choice(model: str | None) -> str:
    from assistant.voice.speech_models import speech_model_choice

    return speech_model_choice(model)


def voice_upload(
    *, owner: Any, upload: UploadedFile[bytes], title: str = "", model: str | None = None, language: str = ""
) -> VoiceNote:
    """Keep a recording for `owner` and queue its transcription. AudioRejected says why not; nothing is kept then."""
    name = upload.name or "recording"
    label = f"“{title_clean(name, fallback='recording')}”"
    if upload.size is not None and upload.size > max_bytes():
        raise AudioRejected(f"{label} is larger than the {max_bytes() // 1_000_000} MB limit for voice notes.")
    folder = member_folder(owner_id=owner.pk, kind=FOLDER)
    partial = _store(upload, folder, label)
    try:
        info = audio_inspect(path=partial, name=title_clean(name, fallback="recording"))
        suffix, content_type = CONTAINERS.get(info.container, (".audio", "application/octet-stream"))
        final = partial.with_suffix(suffix)
        os.replace(partial, final)
        audio_remux_if_unseekable(path=final, container=info.container)
        try:
            return _note_create(
                owner,
                final,
                info,
                title=title_clean(title or _title_from_name(name)),
                content_type=content_type,
                model=_model_choice(model),
                language=language,
            )
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    finally:
        partial.unlink(missing_ok=True)


def _note_create(owner: Any, path: Path, info: AudioInfo, **fields: Any) -> VoiceNote:
    if fields["language"] not in LANGUAGES:
        fields["language"] = ""
    with transaction.atomic():
        note = VoiceNote.objects.create(
            owner=owner,
            file=str(path.relative_to(settings.DATA_DIR)),
            size_bytes=path.stat().st_size,
            duration=info.duration,
            codec=info.codec,
            sample_rate=info.sample_rate,
            channels=info.channels,
            warning=info.warning,
            **fields,
        )
        note.job = _transcribe_job_create(note)
        note.save(update_fields=["job"])
    return note


def _transcribe_job_create(note: VoiceNote) -> Job:
    return job_create(
        owner=note.owner, kind=KIND_TRANSCRIBE, title=f"Transcribe “{note.title}”"[:200], payload={"note_id": note.pk}
    )


def _index_job_create(note: VoiceNote) -> Job:
    return job_create(
        owner=note.owner, kind=KIND_INDEX, title=f"Index “{note.title}”"[:200], payload={"note_id": note.pk}
    )


def voice_note_path(note: VoiceNote) -> Path | None:
    """The note's audio file, or None when the stored path would point outside the owner's folder."""
    folder = (settings.DATA_DIR / "users" / str(note.owner_id) / FOLDER).resolve()
    path = (settings.DATA_DIR / note.file).resolve()
    return path if path.parent == folder else None


def voice_note_rename(*, note: VoiceNote, title: str) -> VoiceNote:
    """A new title; a READY note is indexed again, so search and citations use it."""
    note.title = title_clean(title, fallback=note.title)
    note.save(update_fields=["title"])
    if note.status == VoiceNoteStatus.READY:
        _index_job_create(note)
    note_publish(note_id=note.pk)
    return note


def voice_segment_edit(*, note: VoiceNote, number: int, text: str) -> Segment:
    """Keep the member's correction of one segment and index the note again. ValueError for empty text."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError("A segment cannot be empty; correct its words instead.")
    if note.status != VoiceNoteStatus.READY:
        raise ValueError("The transcript can be corrected once the transcription is finished.")
    segment = Segment.objects.get(note=note, number=number)
    if segment.text != cleaned:
        segment.text, segment.edited = cleaned, True
        segment.save(update_fields=["text", "edited"])
        _index_job_create(note)
    return segment


def voice_note_cancel(*, note: VoiceNote) -> VoiceNote:
    """Stop the transcription: at once when it is waiting, between segments when it runs."""
    stopped = job_cancel_active(job_id=note.job_id)
    if stopped is not None:
        VoiceNote.objects.filter(pk=note.pk, job=stopped).update(status=VoiceNoteStatus.CANCELLED)
        note_publish(note_id=note.pk)
    note.refresh_from_db()
    return note


def voice_note_retry(*, note: VoiceNote) -> Job:
    """Transcribe the note again (after a failure or a cancel); an active job is returned as it is."""
    current = job_active(job_id=note.job_id)
    if current is not None:
        return current
    with transaction.atomic():
        job = _transcribe_job_create(note)
        VoiceNote.objects.filter(pk=note.pk).update(job=job, status=VoiceNoteStatus.QUEUED, error="")
    note_publish(note_id=note.pk)
    return job


def voice_note_delete(*, note: VoiceNote) -> None:
    """Remove the audio, the rows and the vectors. ConnectionError (nothing removed) when Chroma is down."""
    job_cancel_active(job_id=note.job_id)
    note_id, owner_id, path = note.pk, note.owner_id, voice_note_path(note)
    segment_vectors_delete(owner_id=owner_id, note_id=note_id)
    note.delete()

    def after_commit() -> None:
        try:  # again, for what a running job may have written since
            segment_vectors_delete(owner_id=owner_id, note_id=note_id)
        except ConnectionError:
            log.warning("vectors of deleted voice note %s may remain until Chroma answers", note_id)
        if path is not None:
            path.unlink(missing_ok=True)

    transaction.on_commit(after_commit)
