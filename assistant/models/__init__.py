"""Every domain's models, re-exported here: Django looks for the app's models in this module."""

from assistant.chat.models import Conversation, ImageAttachment, Message, Persona
from assistant.documents.models import Document, DocumentChunk, DocumentKind, DocumentStatus
from assistant.jobs.models import Job, JobEvent, JobStatus
from assistant.llm.models import LocalModel

__all__ = [
    "Conversation",
    "Document",
    "DocumentChunk",
    "DocumentKind",
    "DocumentStatus",
    "ImageAttachment",
    "Job",
    "JobEvent",
    "JobStatus",
    "LocalModel",
    "Message",
    "Persona",
]
