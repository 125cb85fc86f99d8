"""Answers from the member's documents, with citations, through the real stack.

Real parts: PDFs built with pypdf, uploaded through document_upload and indexed by the session's Celery
worker (which loads MiniLM once and keeps it for the searches its answers make), the Chroma server, and
a tiny random chat model. The tiny model writes nonsense, so the tests look at what the answer was written
from (its stored sources, and the prompt growing by the passages), never at its wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from assistant.chat.retrieval import NOT_FOUND
from assistant.chat.services import conversation_create, message_payload, message_send
from assistant.documents.services import document_upload
from assistant.models import Conversation, Document, DocumentStatus, Job, JobStatus, Message
from tests.support.browser import browser_fixture, open_page_fixture, web_server_fixture  # noqa: F401
from tests.support.documents import filler, pdf_bytes, upload
from tests.support.services import WorkerProcess, chat_model_add, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BOILER_PAGES = [
    ["Household manual", "This manual covers the appliances in the house.", filler("the kitchen", 3)],
    ["Heating", "The boiler pressure should be 1.5 bar when the heating is cold.", filler("the heating", 3)],
    ["Garden", "The lawn mower needs fresh petrol every spring.", filler("the garden", 3)],
]
BOILER_QUESTION = "What pressure should the boiler have?"
FINAL = (Message.State.COMPLETE, Message.State.INCOMPLETE, Message.State.FAILED)


@pytest.fixture
def chat_model(tiny_models: dict[str, Path]) -> Any:
    return chat_model_add(tiny_models["llama3"])


def indexed(owner: Any, name: str, pages: list[list[str]]) -> Document:
    """Upload a PDF as the Documents page does, and wait for the worker to index it."""
    document = document_upload(owner=owner, upload=upload(name, pdf_bytes(pages)))
    job_id = document.job_id
    assert job_id is not None
    wait_for(lambda: not Job.objects.get(pk=job_id).is_active, timeout=180, what=f"the worker to index {name}")
    document.refresh_from_db()
    assert Job.objects.get(pk=job_id).status == JobStatus.SUCCEEDED, document.error
    assert document.status == DocumentStatus.READY
    return document


def ask(owner: Any, text: str, *, scope: str = "all", documents: Sequence[Document] = ()) -> Message:
    """Send a question in a new conversation and wait for the worker's answer."""
    conversation = conversation_create(owner=owner)
    conversation.documents_scope = scope
    conversation.save(update_fields=["documents_scope"])
    conversation.documents.set(documents)
    answer = message_send(owner=owner, conversation_id=conversation.pk, text=text)
    wait_for(lambda: Message.objects.get(pk=answer.pk).state in FINAL, timeout=120, what="the answer", interval=0.1)
    answer.refresh_from_db()
    assert answer.state == Message.State.COMPLETE, answer.error
    return answer


def test_an_answer_carries_the_source_on_the_page_the_answer_is_on(
    worker: WorkerProcess, alice: Any, vectors: None, chat_model: Any
) -> None:
    manual = indexed(alice, "Manual.pdf", BOILER_PAGES)

    answer = ask(alice, BOILER_QUESTION)
    without = ask(alice, BOILER_QUESTION, scope="none")

    assert answer.sources, "the answer was written from no passage"
    first = answer.sources[0]
    assert (first["n"], first["document_id"], first["document"], first["page"]) == (1, manual.pk, "Manual.pdf", 2)
    assert "1.5 bar" in first["text"]
    assert 0 < first["score"] <= 1
    assert answer.completion_tokens > 0  # the model wrote it
    # The passages went into the prompt: the same question costs far more with them than without.
    assert answer.prompt_tokens > without.prompt_tokens + 50
    assert message_payload(answer)["sources"] == answer.sources


def test_documents_never_block_a_general_question_unless_the_member_asks_for_only_documents(
    worker: WorkerProcess, alice: Any, vectors: None, chat_model: Any
) -> None:
    indexed(alice, "Manual.pdf", BOILER_PAGES)

    general = ask(alice, "Who painted the Mona Lisa?")
    strict = ask(alice, "Who painted the Mona Lisa?", scope="only")

    # All my documents (the default): the model answers as usual, and one quiet line says no document was used.
    assert not general.content.startswith(NOT_FOUND)
    assert general.completion_tokens > 0
    assert general.sources == []
    assert general.notice.startswith("No document was used: nothing in your one document matched")
    # Only from my documents: nothing matched, so no answer is made up.
    assert strict.content.startswith(NOT_FOUND)
    assert "your one document" in strict.content
    assert strict.sources == []
    assert (strict.prompt_tokens, strict.completion_tokens) == (0, 0)  # no model call


def test_a_members_question_never_retrieves_anothers_passages(
    worker: WorkerProcess, alice: Any, bob: Any, vectors: None, chat_model: Any
) -> None:
    alices = indexed(alice, "Manual.pdf", BOILER_PAGES)
    bobs = indexed(bob, "Recipes.pdf", [["Apple cake", "Bake the apple cake for forty minutes.", filler("cakes", 3)]])

    answer = ask(bob, "The boiler pressure should be 1.5 bar when the heating is cold.")

    assert all(source["document_id"] == bobs.pk for source in answer.sources)
    assert alices.pk not in {source["document_id"] for source in answer.sources}
    assert "1.5 bar" not in str(answer.sources)


def test_scope_none_answers_without_searching(
    worker: WorkerProcess, alice: Any, vectors: None, chat_model: Any
) -> None:
    indexed(alice, "Manual.pdf", BOILER_PAGES)

    answer = ask(alice, BOILER_QUESTION, scope="none")

    assert answer.sources == []
    assert answer.completion_tokens > 0
    assert not answer.content.startswith(NOT_FOUND)


def test_scope_selected_uses_only_the_selected_documents(
    worker: WorkerProcess, alice: Any, vectors: None, chat_model: Any
) -> None:
    indexed(alice, "Manual.pdf", BOILER_PAGES)
    cottage = indexed(
        alice,
        "Cottage.pdf",
        [["Cottage heating", "The cottage boiler pressure should be 2 bar when cold.", filler("the cottage", 3)]],
    )

    answer = ask(alice, BOILER_QUESTION, scope="selected", documents=[cottage])

    assert answer.sources
    assert {source["document_id"] for source in answer.sources} == {cottage.pk}


def test_the_documents_control_saves_the_scope_with_only_the_members_documents(
    client: Client, alice: Any, bob: Any, chat_model: Any
) -> None:
    mine = Document.objects.create(owner=alice, name="Mine.pdf", file="x", kind="pdf", size_bytes=1, sha256="a")
    theirs = Document.objects.create(owner=bob, name="Theirs.pdf", file="y", kind="pdf", size_bytes=1, sha256="b")
    conversation = conversation_create(owner=alice)
    client.force_login(alice)

    response = client.post(
        f"/chat/{conversation.pk}/settings/",
        {"documents_scope": "selected", "documents": [mine.pk, theirs.pk], "system_prompt": ""},
    )

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.documents_scope == Conversation.DocumentsScope.SELECTED
    assert list(conversation.documents.all()) == [mine]


@pytest.mark.browser
def test_the_page_shows_sources_and_links_citations_without_running_their_text(
    alice: Any, chat_model: Any, open_page: Any
) -> None:
    conversation = conversation_create(owner=alice)
    Message.objects.create(conversation=conversation, role="user", content="What pressure?")
    hostile = '<img src=x onerror="window.__xss=1">[1]'
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="It should be 1.5 bar [1]. Not [7], and `[1]` in code stays text. " + hostile,
        sources=[
            {
                "n": 1,
                "document_id": 42,
                "document": "<b>Manual</b>.pdf",
                "page": 2,
                "page_label": "page",
                "score": 0.834,
                "text": "The boiler pressure should be 1.5 bar <script>window.__xss=1</script>",
            }
        ],
    )
    page = open_page(alice, f"/chat/{conversation.pk}/")
    page.wait_for_selector(".msg--assistant .msg__sources:not([hidden])")

    citations = page.eval_on_selector_all(
        ".msg--assistant .msg__body a.msg__cite", "links => links.map(a => [a.textContent, a.getAttribute('href')])"
    )
    # An answer saved without passage numbers links to the viewer with the passage's first words.
    words = "The boiler pressure should be 1.5 bar <script>window.__xss=1</script>"
    viewer = "/documents/42/view/?" + urlencode({"page": 2, "q": words})
    assert citations == [["[1]", viewer], ["[1]", viewer]]
    assert page.text_content(".msg--assistant .msg__body code") == "[1]"
    assert "[7]" in (page.text_content(".msg--assistant .msg__body") or "")
    assert page.text_content(".msg__source summary") == "[1] <b>Manual</b>.pdf, page 2 — relevance 83%"
    assert page.get_attribute(".msg__source-link", "href") == viewer
    assert "<script>" in (page.text_content(".msg__source-text") or "")  # shown as text
    assert page.evaluate("() => window.__xss") is None
    assert (
        page.eval_on_selector_all(
            ".msg--assistant :is(.msg__body, .msg__sources) :is(img, script)", "els => els.length"
        )
        == 0
    )
    assert not page.problems


def _words(text: str) -> int:
    """Stands for the model's tokenizer: one token a word, so budgets are easy to reason about."""
    return len(text.split())


def test_passages_are_dropped_before_the_question_and_after_old_turns() -> None:
    from assistant.chat.prompt import MESSAGE_OVERHEAD_TOKENS, fit_turns, system_text
    from assistant.documents.search import Passage

    manual = Document(pk=1, name="Manual.pdf", kind="pdf")
    passages = [Passage(manual, n, n + 1, "", " ".join(["word"] * 100), 0, 0, 1.0 - n / 10, 0.5, 1) for n in range(3)]
    turns = [
        {"role": "user", "text": "old " * 50, "images": []},
        {"role": "assistant", "text": "reply " * 50, "images": []},
        {"role": "user", "text": "What pressure should the boiler have?", "images": []},
    ]
    question_cost = 6 + MESSAGE_OVERHEAD_TOKENS

    def fit(budget: int) -> tuple[list[dict[str, Any]], int, int, int]:
        return fit_turns(turns=turns, system="", budget=budget, image_tokens=0, count_tokens=_words, passages=passages)

    kept_turns, dropped, cost, kept = fit(10_000)
    assert (dropped, kept) == (0, 3)

    # Room for the question and two passages: the old turns go first, then the weakest passage.
    budget = _words(system_text("", passages[:2])) + MESSAGE_OVERHEAD_TOKENS + question_cost
    kept_turns, dropped, cost, kept = fit(budget)
    assert kept_turns == turns[2:]
    assert dropped == 2
    assert kept == 2
    assert cost <= budget

    # No room for any passage: the question is still asked.
    kept_turns, _, _, kept = fit(question_cost + 5)
    assert (kept_turns, kept) == (turns[2:], 0)
