"""Finding the passages of a member's documents and voice notes that an answer should be written from.

The llm worker calls `answer_passages` before generation; the conversation's documents scope says
which documents are searched (all the owner's ready documents, the selected ones, or none), and
whether an answer may be written without a matching passage (every scope but "only"). Voice notes are
a second source (assistant.voice.search), searched with all the documents: both kinds are scored 0..1
the same way, so they are merged by score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from assistant.documents.search import Passage, documents_search
from assistant.models import Conversation, Document, VoiceNote
from assistant.voice.search import VoiceHit, voice_search

Source = Passage | VoiceHit

NOT_FOUND = "I didn't find this in your documents."


@dataclass(frozen=True)
class Retrieval:
    """What a search of the conversation's documents found, and what was searched."""

    scope_label: str  # e.g. "all your documents (3)" or "the selected documents: Manual.pdf"
    passages: list[Source]

    strict: bool = False  # "only from my documents": no passage, no answer

    @property
    def not_found_text(self) -> str:
        return f"{NOT_FOUND} I searched {self.scope_label}."

    @property
    def unused_text(self) -> str:
        """The quiet line under an answer the model wrote without documents, because none matched."""
        return f"No document was used: nothing in {self.scope_label} matched the question."


def scope_document_ids(conversation: Conversation) -> list[int] | None:
    """The ready documents an answer in this conversation may use; None when it uses none."""
    if conversation.documents_scope == Conversation.DocumentsScope.NONE:
        return None
    documents = Document.objects.owned_by(conversation.owner_id).searchable()
    if conversation.documents_scope == Conversation.DocumentsScope.SELECTED:
        documents = documents.filter(pk__in=conversation.documents.values("pk"))
    ids = list(documents.order_by("pk").values_list("pk", flat=True))
    return ids or None


def scope_voice_notes(conversation: Conversation) -> int:
    """How many transcribed voice notes an answer may use: all of them with all the documents, else none."""
    if conversation.documents_scope not in (Conversation.DocumentsScope.ALL, Conversation.DocumentsScope.ONLY):
        return 0
    return VoiceNote.objects.owned_by(conversation.owner_id).searchable().count()


def _scope_label(conversation: Conversation, document_ids: list[int], notes: int = 0) -> str:
    if conversation.documents_scope == Conversation.DocumentsScope.SELECTED:
        names = list(Document.objects.filter(pk__in=document_ids).order_by("name").values_list("name", flat=True))
        return f"the selected documents: {', '.join(names)}"
    count = len(document_ids)
    label = f"all your documents ({count})" if count != 1 else "your one document"
    if not notes:
        return label
    voice = f"voice notes ({notes})" if notes != 1 else "one voice note"
    return f"{label} and {voice}" if count else f"your {voice}"


def answer_passages(*, conversation: Conversation, question: str) -> Retrieval | None:
    """Passages that clear HEARTH_RAG_MIN_SCORE, best first; None when the conversation uses no documents."""
    document_ids = scope_document_ids(conversation)
    notes = scope_voice_notes(conversation)
    if (document_ids is None and not notes) or not question.strip():
        return None
    limit = settings.HEARTH_RAG_PASSAGES
    found: list[Source] = []
    if document_ids is not None:
        narrowed = document_ids if conversation.documents_scope == Conversation.DocumentsScope.SELECTED else None
        found += documents_search(owner=conversation.owner, query=question, document_ids=narrowed, limit=limit)
    if notes:
        found += voice_search(owner=conversation.owner, query=question, limit=limit)
    kept = [passage for passage in found if passage.score >= settings.HEARTH_RAG_MIN_SCORE]
    kept.sort(key=lambda passage: -passage.score)
    strict = conversation.documents_scope == Conversation.DocumentsScope.ONLY
    label = _scope_label(conversation, document_ids or [], notes)
    return Retrieval(scope_label=label, passages=kept[:limit], strict=strict)


def context_block(passages: list[Source]) -> str:
    """The system text that hands the model its passages, numbered as the answer must cite them."""
    if not passages:
        return ""
    lines = [
        "Answer the question using only the numbered passages from the member's documents and voice notes below. "
        "Cite each fact with the passage's number in square brackets, like [1]. If the passages do not "
        "contain the answer, say that the documents do not say.",
    ]
    for n, passage in enumerate(passages, start=1):
        lines.append(f"[{n}] {passage.citation}\n{passage.text}")
    return "\n\n".join(lines)


def sources_payload(passages: list[Source]) -> list[dict[str, Any]]:
    """What the answer keeps of its passages, for the Sources panel and the [n] links."""
    return [
        {"n": n, **passage.source_payload()}
        if isinstance(passage, VoiceHit)
        else {
            "n": n,
            "document_id": passage.document.pk,
            "document": passage.document.name,
            "page": passage.page,
            "passage": passage.chunk_number + 1,  # the viewer highlights it (1-based, as the page lists it)
            "page_label": passage.document.page_label,
            "score": passage.score,
            "text": passage.text,
        }
        for n, passage in enumerate(passages, start=1)
    ]
