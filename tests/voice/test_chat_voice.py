"""Chat answers from voice notes: retrieval finds the note's segment and cites it at its second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.chat.models import Conversation
from assistant.chat.retrieval import answer_passages, context_block, sources_payload
from assistant.voice.search import VoiceHit
from tests.support.voice import note_transcribed, voice_collections_drop

pytestmark = pytest.mark.django_db(transaction=True)
QUESTION = "What does the plumber say about the pipes under the sink?"


@pytest.fixture(autouse=True)
def _voice_vectors(chroma_server: str, inline_jobs: list[int]) -> None:
    voice_collections_drop()


def test_a_question_cites_the_note_at_the_second_it_was_said(alice: Any, bob: Any, speech_ogg: Path) -> None:
    note = note_transcribed(owner=alice, path=speech_ogg)
    said_at = note.segments.get(number=2).start
    retrieval = answer_passages(conversation=Conversation.objects.create(owner=alice), question=QUESTION)
    assert retrieval is not None
    assert retrieval.scope_label == "your one voice note"
    first = retrieval.passages[0]
    assert isinstance(first, VoiceHit)
    assert first.citation == f"Kitchen note, 0:{int(said_at):02d}"
    assert f"[1] Kitchen note, 0:{int(said_at):02d}\n" in context_block(retrieval.passages)
    source = sources_payload(retrieval.passages)[0]
    assert source["kind"] == "voice"
    assert source["url"] == f"/voice/{note.pk}/?t={int(said_at)}"
    assert source["n"] == 1

    assert answer_passages(conversation=Conversation.objects.create(owner=bob), question=QUESTION) is None
    none = Conversation.objects.create(owner=alice, documents_scope=Conversation.DocumentsScope.NONE)
    assert answer_passages(conversation=none, question=QUESTION) is None
