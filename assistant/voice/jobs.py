"""The voice jobs, on the `media` queue: transcribe a note, and index a note's segments again.

`voice_transcribe_run` starts by removing whatever an earlier, interrupted run of the note wrote
(segments and vectors), then writes segments as they come, in small batches, while it reports the
fraction of the audio done; a cancel is heard between segments. The note becomes READY last, after
every segment is in the database and in Chroma. Writes to the note are fenced by the job's claim.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed
from assistant.jobs.services import JobLost
from assistant.voice.clock import clock
from assistant.voice.engines import engine_for
from assistant.voice.models import Segment, VoiceNote, VoiceNoteStatus
from assistant.voice.services import note_publish, voice_note_path
from assistant.voice.transcribe import NO_SPEECH_MESSAGE, NoSpeech, TranscriptStream
from assistant.voice.transcribe import Segment as HeardSegment
from assistant.voice.weights import WeightsMissing

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # each report is a row and a push: once a second is live enough
BATCH = 8  # segments written at a time


def _note_set(context: JobContext, note_id: int, **changes: Any) -> bool:
    """Write the note's state, only while this run holds its job's claim."""
    updated = VoiceNote.objects.filter(
        pk=note_id, job_id=context.job.pk, job__claim_token=context.token, job__status=JobStatus.RUNNING
    ).update(**changes)
    if updated:
        note_publish(note_id=note_id)
    return bool(updated)


def _holds_claim(context: JobContext) -> bool:
    return Job.objects.filter(pk=context.job.pk, claim_token=context.token, status=JobStatus.RUNNING).exists()


def _discard(note: VoiceNote) -> None:
    from assistant.voice.index import segment_vectors_delete

    Segment.objects.filter(note_id=note.pk).delete()
    segment_vectors_delete(owner_id=note.owner_id, note_id=note.pk)


def voice_transcribe_run(context: JobContext) -> str:
    """The job handler: transcribe the note's audio, store and index its segments, then mark it ready."""
    note = VoiceNote.objects.filter(pk=int(context.job.payload.get("note_id", 0))).first()
    if note is None:
        return "The voice note was deleted before it was transcribed"
    if note.job_id != context.job.pk:
        return "A newer transcription of this note took over"
    _note_set(context, note.pk, status=VoiceNoteStatus.TRANSCRIBING, error="")
    try:
        return _transcribe(context, note)
    except JobLost:
        raise
    except (JobCancelled, JobFailed) as exc:
        failed = isinstance(exc, JobFailed)
        _discard_quietly(context, note)
        status = VoiceNoteStatus.FAILED if failed else VoiceNoteStatus.CANCELLED
        _note_set(context, note.pk, status=status, error=str(exc) if failed else "", segment_count=0)
        raise
    except TRANSIENT_ERRORS:
        _note_set(context, note.pk, status=VoiceNoteStatus.QUEUED)
        raise
    except Exception as exc:
        _discard_quietly(context, note)
        error = f"Unexpected error ({type(exc).__name__}): {exc}. The log of the worker has details."
        _note_set(context, note.pk, status=VoiceNoteStatus.FAILED, error=error, segment_count=0)
        raise


def _discard_quietly(context: JobContext, note: VoiceNote) -> None:
    if not _holds_claim(context):
        return
    try:
        _discard(note)
    except Exception:  # the next run starts by removing them anyway
        log.warning("could not remove the segments of voice note %s", note.pk, exc_info=True)


class _Progress:
    """The fraction of audio done, written at most every PROGRESS_SECONDS; cancels are heard every call."""

    def __init__(self, context: JobContext, duration: float) -> None:
        self.context, self.duration, self.last = context, duration, 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS and fraction < 1.0:
            self.context.check()
            return
        self.last = now
        message = f"Transcribed {clock(fraction * self.duration)} of {clock(self.duration)}"
        self.context.progress(0.02 + 0.9 * fraction, message)


def _transcribe(context: JobContext, note: VoiceNote) -> str:
    path = voice_note_path(note)
    if path is None or not path.is_file():
        raise JobFailed(f"The audio of “{note.title}” is missing from Hearth's data folder. Upload it again.")
    context.progress(0.01, "Loading the speech model")
    _discard(note)  # what an interrupted earlier run wrote goes first, so nothing is there twice
    try:
        engine = engine_for(model=note.model)
    except WeightsMissing as exc:
        raise JobFailed(str(exc)) from exc
    stream = TranscriptStream(
        engine=engine,
        path=path,
        duration=note.duration,
        language=note.language or None,
        progress=_Progress(context, note.duration),
        beam_size=int(settings.HEARTH_VOICE_BEAM_SIZE),
    )
    count = 0
    try:
        batch: list[HeardSegment] = []
        for heard in stream:
            batch.append(heard)
            if len(batch) >= BATCH:
                count += _segments_add(note.pk, batch)
                batch = []
        count += _segments_add(note.pk, batch)
    except NoSpeech:
        _note_set(context, note.pk, status=VoiceNoteStatus.NO_SPEECH, language=stream.language or "", segment_count=0)
        return NO_SPEECH_MESSAGE
    return _finish(context, note, count=count, language=stream.language or "")


def _segments_add(note_id: int, heard: Sequence[HeardSegment]) -> int:
    if not heard:
        return 0
    try:
        with transaction.atomic():
            if not VoiceNote.objects.select_for_update().filter(pk=note_id).exists():
                raise JobFailed("The voice note was deleted while it was being transcribed.")
            rows = [Segment(note_id=note_id, number=s.index, start=s.start, end=s.end, text=s.text) for s in heard]
            Segment.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise JobLost(note_id) from exc  # another run writes the same note: it holds the claim, not this one
    return len(heard)


def _finish(context: JobContext, note: VoiceNote, *, count: int, language: str) -> str:
    context.progress(0.93, f"Indexing {count} segments for search")
    segments_index(note_id=note.pk)
    ready = _note_set(
        context,
        note.pk,
        status=VoiceNoteStatus.READY,
        language=language,
        segment_count=count,
        transcribed_at=timezone.now(),
        error="",
    )
    if not ready:
        raise JobLost(context.job.pk)
    plural = "" if count == 1 else "s"
    return f"Transcribed {clock(note.duration)} into {count} segment{plural}"


def segments_index(*, note_id: int) -> int:
    """Embed every segment of the note (with its title) and write the vectors; how many were written."""
    from assistant.documents.pipeline.embed import EmbeddingUnavailable, embedder
    from assistant.voice.index import SegmentRecord, segment_vectors_delete, segment_vectors_upsert

    note = VoiceNote.objects.filter(pk=note_id).first()
    if note is None:
        return 0
    segments = list(Segment.objects.filter(note_id=note_id).order_by("number"))
    try:
        model = embedder()
    except EmbeddingUnavailable as exc:
        raise JobFailed(str(exc)) from exc
    segment_vectors_delete(owner_id=note.owner_id, note_id=note_id)
    size = int(settings.HEARTH_EMBED_BATCH_SIZE)
    for first in range(0, len(segments), size):
        batch = segments[first : first + size]
        vectors = model.embed_batch([f"{note.title}: {segment.text}" for segment in batch])
        records = [SegmentRecord(number=s.number, start=s.start, end=s.end) for s in batch]
        segment_vectors_upsert(owner_id=note.owner_id, note_id=note_id, segments=records, embeddings=vectors)
    if not VoiceNote.objects.filter(pk=note_id).exists():  # deleted meanwhile: leave no vector behind
        segment_vectors_delete(owner_id=note.owner_id, note_id=note_id)
        return 0
    return len(segments)


def voice_index_run(context: JobContext) -> str:
    """The job handler after a rename or a corrected segment: index the note's segments again."""
    note = VoiceNote.objects.filter(pk=int(context.job.payload.get("note_id", 0))).first()
    if note is None:
        return "The voice note was deleted"
    if note.status != VoiceNoteStatus.READY:
        return "The note is not transcribed yet; its transcription indexes it"
    context.progress(0.1, "Indexing the transcript")
    count = segments_index(note_id=note.pk)
    return f"Indexed {count} segments of “{note.title}”"
