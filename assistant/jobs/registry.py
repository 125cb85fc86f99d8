"""Every kind of background work, in one place: its label, its queue and its handler.

Adding a kind of job is one line in KINDS. The Celery routing (jobs.services.job_send), the
runner's handler lookup, the supervisor's workers and docker-compose's worker services all follow
from this module (tests/jobs/test_registry.py checks docker-compose.yml against it).

Standard library only: the supervisor imports it before Django is set up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSpec:
    name: str
    # Worker processes per queue in the scaled layout (one container per queue).
    concurrency: int
    why: str


@dataclass(frozen=True)
class JobKindSpec:
    kind: str
    label: str
    queue: str
    # "module:function", imported on first use, so a worker that never runs a kind never pays for its libraries.
    handler: str


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("llm", 1, "one process holds the chat model: one generation at a time"),
    QueueSpec("default", 2, "short household chores: checks, scans, model imports"),
    QueueSpec("ingest", 2, "document indexing"),
    QueueSpec("media", 1, "photos and voice notes"),
    QueueSpec("query", 1, "search queries' encoders, kept warm, so the web process never loads torch"),
)

KINDS: tuple[JobKindSpec, ...] = (
    JobKindSpec("selfcheck", "System check", "default", "assistant.jobs.selfcheck:selfcheck_run"),
    JobKindSpec("chat", "Chat answer", "llm", "assistant.chat.answer:chat_answer_run"),
    JobKindSpec("model_import", "Model import", "default", "assistant.llm.importing:model_import_run"),
    JobKindSpec("models_scan", "Model folder scan", "default", "assistant.llm.library:models_scan_run"),
    JobKindSpec("document_ingest", "Document indexing", "ingest", "assistant.documents.indexing:document_ingest_run"),
    JobKindSpec("voice_transcribe", "Voice transcription", "media", "assistant.voice.jobs:voice_transcribe_run"),
    JobKindSpec("voice_index", "Voice note indexing", "media", "assistant.voice.jobs:voice_index_run"),
    JobKindSpec("voice_dictate", "Dictation in chat", "media", "assistant.voice.dictation:voice_dictate_run"),
    JobKindSpec("photo_index", "Photo indexing", "media", "assistant.photos.indexing:photo_index_run"),
    JobKindSpec("speech_import", "Speech model import", "media", "assistant.voice.speech_models:speech_import_run"),
    JobKindSpec("clip_check", "Photo search model check", "media", "assistant.photos.indexing:clip_check_run"),
)

# On one machine (`manage.py serve`) the queues share two workers: (name, queues, processes).
LOCAL_WORKERS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("llm", ("llm",), 1),
    ("default", ("default", "ingest", "media"), 2),
    # Its own process: a search must not wait behind an hour of indexing on the media queue.
    ("query", ("query",), 1),
)

# Functions a web request may have the query worker run and wait for (jobs.remote): name -> "module:function".
REMOTE_CALLS: dict[str, str] = {
    "documents.text_vector": "assistant.documents.pipeline.embed:text_vector",
    "photos.text_vector": "assistant.photos.queries:clip_text_vector",
    "photos.image_vector": "assistant.photos.queries:clip_image_vector",
}

_BY_KIND = {spec.kind: spec for spec in KINDS}


class UnknownJobKind(KeyError):
    """A job names a kind that this version of Hearth does not know."""


def kind_spec(kind: str) -> JobKindSpec:
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


def kind_label(kind: str) -> str:
    spec = _BY_KIND.get(kind)
    return spec.label if spec else kind.replace("_", " ").capitalize()
