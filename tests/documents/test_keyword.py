"""Keyword search runs on the database's full-text index (SQLite FTS5, PostgreSQL tsvector), per member."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.documents.pipeline import keyword
from assistant.documents.pipeline.keyword import keyword_ranking
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus

pytestmark = pytest.mark.django_db


def _document(owner: Any, name: str, texts: list[str], status: str = DocumentStatus.READY) -> Document:
    document = Document.objects.create(
        owner=owner, name=name, file=f"users/{owner.pk}/documents/{name}", kind=DocumentKind.TEXT,
        size_bytes=1, sha256=name.ljust(64, "0"), status=status, chunk_count=len(texts),
    )  # fmt: skip
    DocumentChunk.objects.bulk_create(
        DocumentChunk(document=document, number=n, page=1, start=0, end=len(text), text=text)
        for n, text in enumerate(texts)
    )
    return document


def _ranked(owner: Any, terms: list[str], document_ids: list[int] | None = None) -> list[tuple[int, int]]:
    return keyword_ranking(owner_id=owner.pk, document_ids=document_ids, terms=terms, limit=10)


def test_passages_are_found_by_their_words_and_ranked_by_how_well_they_match(alice: Any) -> None:
    manual = _document(alice, "manual.txt", [
        "Bleed the radiators in October.",
        "The boiler pressure should read 1.5 bar; the boiler lives in the utility room.",
        "Call the plumber if the pressure drops.",
    ])  # fmt: skip
    assert _ranked(alice, ["boiler", "pressure"])[0] == (manual.pk, 1)
    assert set(_ranked(alice, ["radiators", "plumber"])) == {(manual.pk, 0), (manual.pk, 2)}
    assert _ranked(alice, ["1.5"]) == [(manual.pk, 1)]
    assert _ranked(alice, ["Café"]) == []


def test_the_index_follows_edits_and_deletes_and_only_ready_documents_count(alice: Any) -> None:
    notes = _document(alice, "notes.txt", ["The spare key is under the blue pot."])
    indexing = _document(alice, "new.txt", ["Another spare key hides in the shed."], status=DocumentStatus.INDEXING)
    assert _ranked(alice, ["spare"]) == [(notes.pk, 0)]

    DocumentChunk.objects.filter(document=notes).update(text="The spare key moved to the neighbour.")
    assert _ranked(alice, ["neighbour"]) == [(notes.pk, 0)]
    assert _ranked(alice, ["pot"]) == []
    Document.objects.filter(pk=indexing.pk).update(status=DocumentStatus.READY)
    notes.delete()
    assert _ranked(alice, ["spare"]) == [(indexing.pk, 0)]


def test_one_members_words_never_find_anothers_passages(alice: Any, bob: Any) -> None:
    alices = _document(alice, "alice.txt", ["The safe code is 4711."])
    bobs = _document(bob, "bob.txt", ["The safe is behind the painting."])
    assert _ranked(bob, ["safe", "4711"]) == [(bobs.pk, 0)]
    assert _ranked(bob, ["4711"], document_ids=[alices.pk]) == []
    assert _ranked(alice, ["safe"], document_ids=[alices.pk, bobs.pk]) == [(alices.pk, 0)]


def test_a_word_in_very_many_passages_gives_way_to_the_rarer_words(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword, "RANKED_PASSAGES", 3)
    _document(alice, "log.txt", [f"Garden note {n}: watered the tomatoes." for n in range(8)])
    diary = _document(alice, "diary.txt", ["Garden note: the greenhouse door sticks."])
    tools = _document(
        alice, "tools.txt", ["The shed roof leaks.", "Shed key on the hook.", "Garden shed paint.", "Garden shed lock."]
    )
    # "garden" is in 11 passages, more than are ranked: the rarer word alone decides.
    assert _ranked(alice, ["garden", "greenhouse"]) == [(diary.pk, 0)]
    # Both words are common but together in few passages: those are ranked.
    assert set(_ranked(alice, ["garden", "shed"])) == {(tools.pk, 2), (tools.pk, 3)}
    # Both common, and together in too many passages: meaning alone will decide.
    assert _ranked(alice, ["garden", "note"]) == []


def test_words_match_in_their_other_forms(alice: Any) -> None:
    car = _document(alice, "car.txt", ["Check the tyre pressure monthly.", "The oil was changed in March."])
    assert _ranked(alice, ["tyres", "pressures"]) == [(car.pk, 0)]
    assert _ranked(alice, ["changing"]) == [(car.pk, 1)]
