"""Push-to-talk in the chat composer: a short recording turned into text for the message box.

No voice note is made: the recording is kept under DATA_DIR/users/<owner>/dictation/ only until the
`voice_dictate` job (media queue, so Whisper runs in a worker, never in the web process) has heard it,
and is deleted then, whatever the outcome. The words go into the job's payload ("text"), which only
its owner can read back (`dictation_result`); the page puts them in the message box to edit and send.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from assistant.core.storage import member_file, member_folder
from assistant.jobs.models import Job, JobStatus
from assistant.jobs.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed
from assistant.jobs.services import job_create, job_payload
from assistant.voice.clock import clock
from assistant.voice.intake import AudioRejected, audio_inspect

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

KIND = "voice_dictate"
FOLDER = "dictation"
MAX_SECONDS = 180.0  # push-to-talk is for a message, not a voice note
MAX_BYTES = 20_000_000
NO_SPEECH = "No speech was heard in the recording. Speak closer to the microphone, or type your message."


def _store(upload: UploadedFile[bytes], folder: Path) -> Path:
    path = folder / f"{uuid.uuid4().hex}.audio"
    size = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        for piece in upload.chunks():
            size += len(piece)
            if size > MAX_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise AudioRejected("The recording is too large for a message. Record a shorter one.")
            out.write(piece)
    return path


def dictation_start(*, owner: Any, upload: UploadedFile[bytes], language: str = "") -> Job:
    """Keep the recording for a moment and queue its transcription; AudioRejected says why not (nothing kept)."""
    path = _store(upload, member_folder(owner_id=owner.pk, kind=FOLDER))
    try:
        info = audio_inspect(path=path, name="The recording")
        if info.duration > MAX_SECONDS:
            raise AudioRejected(
                f"The recording is {clock(info.duration)} long; a spoken message can be at most "
                f"{clock(MAX_SECONDS)}. Make a voice note on the Voice page for longer ones."
            )
        return job_create(
            owner=owner,
            kind=KIND,
            title="Dictation in chat",
            payload={
                "file": str(path.relative_to(settings.DATA_DIR)),
                "duration": info.duration,
                "language": language[:8],
            },
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def dictation_result(*, owner: Any, job_id: int) -> dict[str, Any] | None:
    """What the page needs of the owner's dictation job (None for anyone else's, or another kind)."""
    job = Job.objects.owned_by(owner).filter(pk=job_id, kind=KIND).first()
    if job is None:
        return None
    text = job.payload.get("text", "") if job.status == JobStatus.SUCCEEDED else ""
    return {"job": job_payload(job), "text": text}


def _transcribe(context: JobContext, path: Path, duration: float, language: str) -> str:
    from assistant.voice.engines import engine_for
    from assistant.voice.speech_models import speech_default_name
    from assistant.voice.transcribe import NoSpeech, TranscriptionCancelled, TranscriptStream
    from assistant.voice.weights import WeightsMissing

    context.progress(0.05, "Loading the speech model")
    try:
        engine = engine_for(model=speech_default_name())  # the household's default, as for new notes
    except WeightsMissing as exc:
        raise JobFailed(str(exc)) from exc
    context.progress(0.2, "Listening to the recording")
    stream = TranscriptStream(
        engine=engine,
        path=path,
        duration=duration,
        language=language or None,
        progress=lambda fraction: context.progress(0.2 + 0.75 * fraction, "Listening to the recording"),
        cancelled=context.stop.is_set,
    )
    try:
        return " ".join(segment.text.strip() for segment in stream).strip()
    except NoSpeech as exc:
        raise JobFailed(NO_SPEECH) from exc
    except TranscriptionCancelled as exc:
        raise JobCancelled from exc


def voice_dictate_run(context: JobContext) -> str:
    """The job handler: the recording's words into the job's payload; the recording is deleted."""
    payload = dict(context.job.payload)
    path = member_file(owner_id=context.job.owner_id, kind=FOLDER, stored=str(payload.get("file", "")))
    if path is None or not path.is_file():
        raise JobFailed("The recording is gone. Press the microphone and speak again.")
    try:
        text = _transcribe(context, path, float(payload.get("duration") or 0.0), str(payload.get("language", "")))
    except TRANSIENT_ERRORS:
        raise  # the job is queued again and hears the same recording
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    if not text:
        raise JobFailed(NO_SPEECH)
    payload["text"] = text
    Job.objects.filter(pk=context.job.pk, claim_token=context.token, status=JobStatus.RUNNING).update(payload=payload)
    words = len(text.split())
    return f"Heard {words} word{'' if words == 1 else 's'}"
