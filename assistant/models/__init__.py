from assistant.models.chat import Conversation, ImageAttachment, LocalModel, Message, Persona
from assistant.models.documents import Document, DocumentChunk, DocumentKind, DocumentStatus
from assistant.models.jobs import Job, JobEvent, JobKind, JobStatus

__all__ = [
    "Conversation",
    "Document",
    "DocumentChunk",
    "DocumentKind",
    "DocumentStatus",
    "ImageAttachment",
    "Job",
    "JobEvent",
    "JobKind",
    "JobStatus",
    "LocalModel",
    "Message",
    "Persona",
]
