"""Every domain's models, re-exported here: Django looks for the app's models in this module."""

from assistant.chat.models import Conversation, ImageAttachment, Message, Persona
from assistant.documents.models import Document, DocumentChunk, DocumentKind, DocumentStatus
from assistant.jobs.models import Job, JobEvent, JobStatus
from assistant.llm.models import LocalModel
from assistant.photos.models import ClipModel, ClipStatus, Photo
from assistant.voice.models import ImportedSpeechModel, Segment, SpeechDefault, VoiceNote, VoiceNoteStatus

__all__ = [
    "ClipModel",
    "ClipStatus",
    "Conversation",
    "Document",
    "DocumentChunk",
    "DocumentKind",
    "DocumentStatus",
    "ImageAttachment",
    "ImportedSpeechModel",
    "Job",
    "JobEvent",
    "JobStatus",
    "LocalModel",
    "Message",
    "Persona",
    "Photo",
    "Segment",
    "SpeechDefault",
    "VoiceNote",
    "VoiceNoteStatus",
]
