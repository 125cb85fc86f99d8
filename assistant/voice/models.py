"""Voice notes a member records or uploads, and the timed segments of their transcripts.

A note is searchable once its status is READY, written after every segment is in the database and in
the vector store. A transcription that is restarted (a worker killed mid-note) removes what the
earlier run wrote before it writes again, so no segment is ever there twice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from assistant.jobs.models import FINAL_STATUSES, Job, JobStatus
from assistant.voice.clock import clock


class VoiceNoteStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be transcribed"
    TRANSCRIBING = "transcribing", "Transcribing"
    READY = "ready", "Ready"
    NO_SPEECH = "no_speech", "No speech found"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Transcription stopped"


class VoiceNoteQuerySet(models.QuerySet["VoiceNote"]):
    def owned_by(self, user: Any) -> VoiceNoteQuerySet:
        return self.filter(owner=user)

    def searchable(self) -> VoiceNoteQuerySet:
        return self.filter(status=VoiceNoteStatus.READY)


class VoiceNote(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_notes")
    title = models.CharField(max_length=200)
    # Where the audio is, relative to DATA_DIR, under a name Hearth chose.
    file = models.CharField(max_length=500)
    content_type = models.CharField(max_length=100)  # what the player is told, e.g. "audio/webm"
    size_bytes = models.BigIntegerField()
    duration = models.FloatField()  # seconds
    codec = models.CharField(max_length=40, blank=True)
    sample_rate = models.PositiveIntegerField(default=0)
    channels = models.PositiveSmallIntegerField(default=0)
    model = models.CharField(max_length=500)  # "base", "tiny.en", or an imported model's path
    language = models.CharField(max_length=16, blank=True)  # chosen at upload, or detected
    status = models.CharField(max_length=16, choices=VoiceNoteStatus.choices, default=VoiceNoteStatus.QUEUED)
    warning = models.TextField(blank=True)
    error = models.TextField(blank=True)
    segment_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    transcribed_at = models.DateTimeField(null=True, blank=True)

    objects = VoiceNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def duration_label(self) -> str:
        return clock(self.duration)

    @property
    def effective_status(self) -> str:
        """The status to show, also when the job ended before its handler could write the note's."""
        job = self.job
        if job is None:
            return self.status
        if self.status in (VoiceNoteStatus.QUEUED, VoiceNoteStatus.TRANSCRIBING) and job.status in FINAL_STATUSES:
            if job.status == JobStatus.CANCELLED:
                return VoiceNoteStatus.CANCELLED
            if job.status == JobStatus.FAILED:
                return VoiceNoteStatus.FAILED
        return self.status

    @property
    def effective_error(self) -> str:
        if self.effective_status == VoiceNoteStatus.FAILED:
            return self.error or (self.job.error if self.job else "")
        return ""


class Segment(models.Model):
    """One timed line of a transcript; its vector's id is f"{note_id}:{number}" in the owner's voice collection."""

    note = models.ForeignKey(VoiceNote, on_delete=models.CASCADE, related_name="segments")
    number = models.PositiveIntegerField()  # 0-based, in time order
    start = models.FloatField()  # seconds from the start of the recording
    end = models.FloatField()
    text = models.TextField()
    edited = models.BooleanField(default=False)  # the member corrected Whisper's text

    class Meta:
        ordering = ["note", "number"]
        constraints = [models.UniqueConstraint(fields=["note", "number"], name="voice_segment_number_unique")]

    def __str__(self) -> str:
        return f"{self.note_id}:{self.number}"

    @property
    def start_label(self) -> str:
        return clock(self.start)


class SpeechEngineKind(models.TextChoices):
    CT2 = "ct2", "faster-whisper (CTranslate2)"
    PT = "pt", "OpenAI Whisper checkpoint"


class ImportedSpeechModel(models.Model):
    """A Whisper model the household imported: a CTranslate2 folder or a `.pt` file under MODELS_DIR/whisper.

    A row exists only for a model that loaded: the import job copies, loads, and writes the row last."""

    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1000, unique=True)
    engine = models.CharField(max_length=8, choices=SpeechEngineKind.choices)
    size_bytes = models.BigIntegerField(default=0)
    parameters = models.BigIntegerField(default=0)  # counted for .pt checkpoints; 0 when unknown
    multilingual = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SpeechDefault(models.Model):
    """One row (pk 1): the speech model new voice notes use, chosen on the Models page.

    `model` is a packaged model's name ("base", "tiny.en") or an imported model's path; without a row
    (or when it names a model that is gone) HEARTH_VOICE_MODEL decides."""

    model = models.CharField(max_length=1000)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.model
