"""Search on real manuals (bench/data/docs): whole option entries, a paraphrased question, an off-topic one.

Real parts: the PDFs Debian ships rendered by groff, the all-MiniLM-L6-v2 model, the Chroma server, the
test database and its full-text index. The questions here are not in bench/data/documents_eval.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assistant.documents.pipeline.embed import Embedder
from assistant.documents.search import documents_search
from assistant.models import DocumentChunk
from tests.support.indexing import indexed

LIBRARY = Path(__file__).resolve().parents[2] / "bench" / "data" / "docs"


def _library(owner: Any, *names: str) -> dict[str, Any]:
    return {name: indexed(owner, name, (LIBRARY / name).read_bytes()) for name in names}


@pytest.mark.django_db(transaction=True)
def test_real_manuals_keep_entries_whole_find_paraphrases_and_refuse_off_topic_questions(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    documents = _library(alice, "gzip.pdf", "tar.pdf")
    tar = documents["tar.pdf"]
    texts = list(DocumentChunk.objects.filter(document=tar).values_list("text", flat=True))
    assert not any("GNU TAR Manual" in text for text in texts)  # the running header is gone
    entry = [text for text in texts if "--exclude=PATTERN" in text and "Exclude files matching PATTERN" in text]
    assert entry, "the --exclude entry and its description share a passage"

    # Worded as a person asks: no "verbose", "ratio" or "list" from the manual's entry.
    found = documents_search(owner=alice, query="How can I see how much space compressing saved?", limit=5)
    assert any(p.document == documents["gzip.pdf"] and "compression ratio" in p.text.lower() for p in found)
    best = max(p.score for p in found[: settings.HEARTH_RAG_PASSAGES])
    assert best >= settings.HEARTH_RAG_MIN_SCORE

    off_topic = documents_search(owner=alice, query="How do I back up my phone's photos to the cloud?", limit=5)
    assert all(0.0 <= p.score < settings.HEARTH_RAG_MIN_SCORE for p in off_topic)
    scores = [p.score for p in found]
    assert all(0.0 <= score <= 1.0 for score in scores)
