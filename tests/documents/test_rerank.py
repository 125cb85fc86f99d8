"""Re-scoring candidates: word rarity from the full-text index, coverage, BM25, proximity, and an honest score."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.documents.pipeline.keyword import keyword_search
from assistant.documents.pipeline.relevance import relevance
from assistant.documents.pipeline.rerank import candidate_features, idf_weights
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus


def _features(terms: list[str], texts: list[str], counts: dict[str, int] | None = None) -> list[Any]:
    return candidate_features(
        terms=terms,
        idf=idf_weights(terms, counts or {}, 100),
        texts=texts,
        similarities=[0.5] * len(texts),
        fused=[1.0 / (n + 1) for n in range(len(texts))],
    )


def test_rarer_words_weigh_more_and_a_word_in_no_passage_weighs_most() -> None:
    weights = idf_weights(["file", "keep", "wireguard"], {"file": 60, "keep": 3, "wireguard": 0}, 100)
    assert weights["file"] < weights["keep"] < weights["wireguard"]
    assert min(weights.values()) >= 0.1


def test_coverage_bm25_and_proximity_prefer_the_passage_that_holds_the_question_together() -> None:
    terms = ["keep", "original", "compressing"]
    together = "-k, --keep: keep the original input files when compressing or decompressing."
    apart = "Keep in mind " + "that this manual is long and " * 6 + "the original author wrote about compressing."
    unrelated = "The sky is blue and the grass is green."
    close, far, none = _features(terms, [together, apart, unrelated])
    assert close.coverage == far.coverage == 1.0
    assert none.coverage == none.bm25 == none.proximity == 0.0
    assert close.proximity == 1.0 > far.proximity
    assert close.bm25 == 1.0 >= far.bm25  # divided by the best candidate's
    assert 0.0 <= close.fused <= 1.0
    assert close.fused == 1.0


def test_relevance_is_bounded_and_monotonic_in_meaning_and_absent_words() -> None:
    grid = [n / 10 for n in range(-2, 11)]
    for absent in (0.0, 0.5, 1.0):
        scores = [relevance(similarity, absent) for similarity in grid]
        assert all(0.0 < score < 1.0 for score in scores)
        assert scores == sorted(scores)
    for similarity in (0.2, 0.5, 0.8):
        scores = [relevance(similarity, absent) for absent in (0.0, 0.25, 0.5, 1.0)]
        assert scores == sorted(scores, reverse=True)
    assert relevance(0.1, 0.0) < 0.2  # an unrelated passage stays well under the 0.5 threshold
    assert relevance(0.8, 0.0) > 0.9


@pytest.mark.django_db
def test_keyword_search_counts_how_many_passages_hold_each_word(alice: Any) -> None:
    document = Document.objects.create(
        owner=alice, name="notes.txt", file=f"users/{alice.pk}/documents/notes.txt", kind=DocumentKind.TEXT,
        size_bytes=1, sha256="n".ljust(64, "0"), status=DocumentStatus.READY, chunk_count=3,
    )  # fmt: skip
    texts = ["The boiler pressure is 1.5 bar.", "Bleed the radiators.", "The boiler is in the utility room."]
    DocumentChunk.objects.bulk_create(
        DocumentChunk(document=document, number=n, page=1, start=0, end=len(text), text=text)
        for n, text in enumerate(texts)
    )
    found = keyword_search(owner_id=alice.pk, document_ids=None, terms=["boiler", "pressure", "wireguard"], limit=5)
    assert found.counts == {"boiler": 2, "pressure": 1, "wireguard": 0}
    assert found.passages >= 3
    assert found.ranking[0] == (document.pk, 0)
    assert found.absent == ["wireguard"]


@pytest.mark.django_db
def test_a_word_only_another_members_passages_hold_is_absent_for_this_member(alice: Any, bob: Any) -> None:
    for owner, text in ((alice, "The boiler pressure is 1.5 bar."), (bob, "Our WireGuard tunnel config.")):
        document = Document.objects.create(
            owner=owner, name="n.txt", file=f"users/{owner.pk}/documents/n.txt", kind=DocumentKind.TEXT,
            size_bytes=1, sha256=str(owner.pk).ljust(64, "0"), status=DocumentStatus.READY, chunk_count=1,
        )  # fmt: skip
        DocumentChunk.objects.create(document=document, number=0, page=1, start=0, end=len(text), text=text)
    found = keyword_search(owner_id=alice.pk, document_ids=None, terms=["boiler", "wireguard"], limit=5)
    assert found.absent == ["wireguard"]  # Bob's words never change what Alice's search says
