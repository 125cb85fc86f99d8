from assistant.models.chat import Conversation, ImageAttachment, LocalModel, Message, Persona
from assistant.models.jobs import Job, JobEvent, JobKind, JobStatus

__all__ = [
    "Conversation",
    "ImageAttachment",
    "Job",
    "JobEvent",
    "JobKind",
    "JobStatus",
    "LocalModel",
    "Message",
    "Persona",
]
