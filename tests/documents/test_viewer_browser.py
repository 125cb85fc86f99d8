"""A citation opens the document itself, in Debian's chromium: a real multi-page PDF drawn by the vendored
pdf.js at the cited page with the passage highlighted, and a manual's section scrolled to its passage.

Documents are indexed inline by the real pipeline (MiniLM, the Chroma server); the PDF and the Markdown
manual are the evaluation library's real files. Console errors, CSP violations included, fail a test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings

from assistant.chat.services import conversation_create
from assistant.documents.services import document_file
from assistant.models import Document, DocumentChunk, DocumentKind, Message
from tests.environment import TEST_DATA_DIR
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.indexing import indexed, user_documents_folder
from tests.support.layout import assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.services import chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "bench" / "data" / "docs"
CITED_PAGE = 3  # sed.pdf has 4 pages

# The canvas of the drawn page is in the viewport and has ink on it (not a blank or failed drawing).
_CANVAS_INKED = """(canvas) => {
  const box = canvas.getBoundingClientRect();
  const inView = box.bottom > 0 && box.top < window.innerHeight && box.width > 100;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128 && pixels[i + 3] > 0) dark += 1;
  return {inView, dark, width: box.width};
}"""

# The highlighted spans as a person sees them: shown, inside the viewport, and not covered by the page's
# own controls (the sticky bar, the top bar). Text-layer spans overlap each other, and that is fine.
_HIGHLIGHT_SEEN = """(spans) => spans.map((span) => {
  const box = span.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  const style = getComputedStyle(span);
  return {
    shown: span.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) && box.width > 1 && box.height > 1,
    inView: box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth,
    onTop: Boolean(hit && hit.closest(".textLayer")),
    tinted: style.backgroundColor !== "rgba(0, 0, 0, 0)",
  };
})"""

_CSP_WATCH = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});"""


def _shot_in_view(page: Any, name: str) -> None:
    """What the window shows where the viewer scrolled to (layout.screenshot takes the whole page from its top)."""
    folder = Path(os.environ.get("HEARTH_SCREENSHOTS") or TEST_DATA_DIR / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.querySelector('.viewer-hit')?.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(folder / f"{name}.png"))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@pytest.fixture
def sed_pdf(alice: Any, vectors: None, embedding_model: Any, inline_jobs: list[int]) -> Document:
    return indexed(alice, "sed.pdf", (DOCS / "sed.pdf").read_bytes())


def _cited_chunk(document: Document, page: int) -> DocumentChunk:
    """A passage of body text on `page` (not a heading alone)."""
    return max(DocumentChunk.objects.filter(document=document, page=page), key=lambda chunk: len(chunk.text))


def _wait_drawn(page: Any, number: int) -> None:
    page.wait_for_selector(f"[data-viewer-sheet][data-drawn='{number}']", timeout=30_000)


def _assert_page_and_highlight(page: Any, chunk: DocumentChunk) -> None:
    _wait_drawn(page, CITED_PAGE)
    assert page.input_value("[data-viewer-input]") == str(CITED_PAGE)
    canvas = page.locator("[data-viewer-canvas]").evaluate(_CANVAS_INKED)
    assert canvas["inView"], canvas
    assert canvas["dark"] > 500, canvas
    assert page.locator(".textLayer .viewer-hit").count() >= 2
    seen = page.locator(".textLayer .viewer-hit").evaluate_all(_HIGHLIGHT_SEEN)
    first = seen[0]  # the start of the passage is in view without scrolling
    assert first == {"shown": True, "inView": True, "onTop": True, "tinted": True}, seen[:3]
    assert all(span["tinted"] and span["onTop"] for span in seen if span["inView"]), seen
    marked = _words(" ".join(page.locator(".textLayer .viewer-hit").all_inner_texts()))
    start = _words(chunk.text)[:6]
    assert " ".join(start) in " ".join(marked), (start, marked[:20])
    assert_no_sideways_scroll(page)


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_a_chat_citation_opens_the_pdf_at_its_page_with_the_passage_highlighted(
    alice: Any, sed_pdf: Document, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    chunk = _cited_chunk(sed_pdf, CITED_PAGE)
    conversation = conversation_create(owner=alice)
    Message.objects.create(conversation=conversation, role="user", content="How does sed quit?")
    source = {"n": 1, "document_id": sed_pdf.pk, "document": "sed.pdf", "page": CITED_PAGE, "page_label": "page"}
    source |= {"passage": chunk.number + 1, "score": 0.8, "text": chunk.text}
    Message.objects.create(conversation=conversation, role="assistant", content="See [1].", sources=[source])

    page = open_at(alice, f"/chat/{conversation.pk}/", size)
    link = page.locator(".msg--assistant a.msg__cite").first
    expected = f"/documents/{sed_pdf.pk}/view/?page={CITED_PAGE}&passage={chunk.number + 1}"
    assert link.get_attribute("href") == expected
    assert link.get_attribute("target") is None  # same tab: Back (or the viewer's link) returns to the chat
    link.click()
    page.wait_for_url(f"**{expected}")
    _assert_page_and_highlight(page, chunk)
    assert_seen(page, "[data-viewer-chat]")  # "Back to the conversation"
    assert page.get_attribute("[data-viewer-chat]", "href") == f"/chat/{conversation.pk}/"
    _shot_in_view(page, f"viewer-pdf-{size}-at-passage")
    screenshot(page, f"viewer-pdf-{size}")

    # The arrow keys and the bar move between pages; the last page has no Next.
    page.keyboard.press("ArrowRight")
    _wait_drawn(page, CITED_PAGE + 1)
    assert page.locator("[data-viewer-next]").is_hidden()
    assert page.locator(".textLayer .viewer-hit").count() == 0
    page.click("[data-viewer-prev]")
    _wait_drawn(page, CITED_PAGE)
    page.fill("[data-viewer-input]", "1")
    page.press("[data-viewer-input]", "Enter")
    _wait_drawn(page, 1)
    assert page.locator("[data-viewer-prev]").is_hidden()
    assert page.url.endswith("?page=1")
    assert page.problems == []


def test_a_link_with_the_passages_words_highlights_it_too(alice: Any, sed_pdf: Document, open_at: Any) -> None:
    """Answers saved before passages were numbered link with the passage's first words."""
    chunk = _cited_chunk(sed_pdf, CITED_PAGE)
    query = urlencode({"page": CITED_PAGE, "q": " ".join(chunk.text.split()[:12])})
    page = open_at(alice, f"/documents/{sed_pdf.pk}/view/?{query}", "laptop")
    _assert_page_and_highlight(page, chunk)
    # Again with every CSP violation recorded from the first byte (the console shows them too).
    page.add_init_script(_CSP_WATCH)
    response = page.reload()
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "unsafe-eval" not in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy  # no other origin
    _assert_page_and_highlight(page, chunk)
    assert page.evaluate("() => window.__cspViolations") == []
    assert page.problems == []


def test_a_damaged_pdf_says_so_and_offers_the_download(alice: Any, open_at: Any) -> None:
    folder = user_documents_folder(alice)
    folder.mkdir(parents=True, exist_ok=True)
    damaged = folder / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    document = Document.objects.create(
        owner=alice,
        name="Broken.pdf",
        file=str(damaged.relative_to(settings.DATA_DIR)),
        kind=DocumentKind.PDF,
        size_bytes=damaged.stat().st_size,
        sha256="0" * 64,
        page_count=2,
    )
    assert document_file(document) == damaged
    page = open_at(alice, f"/documents/{document.pk}/view/?page=2", "phone")
    error = page.locator("[data-viewer-error]")
    error.wait_for(timeout=30_000)
    assert "damaged or is not a PDF" in error.inner_text()
    assert_seen(page, "[data-viewer-error] a[download]")
    assert page.locator("[data-viewer-sheet]").is_hidden()
    screenshot(page, "viewer-pdf-damaged-phone")
    assert page.problems == []


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_a_markdown_citation_scrolls_to_the_highlighted_passage(
    alice: Any, vectors: None, embedding_model: Any, inline_jobs: list[int], open_at: Any, size: str
) -> None:
    document = indexed(alice, "node-path.md", (DOCS / "node-path.md").read_bytes())
    chunk = DocumentChunk.objects.filter(document=document).order_by("-number").first()
    assert chunk is not None
    page = open_at(alice, f"/documents/{document.pk}/view/?page={chunk.page}&passage={chunk.number + 1}", size)
    assert_seen(page, "#cited", scroll=False)
    assert page.evaluate("() => window.scrollY") > 300  # the passage is far down its section
    marked = _words(" ".join(page.locator("mark.viewer-hit").all_inner_texts()))
    assert marked[:8] == _words(chunk.text)[:8]
    assert page.locator("[data-viewer-canvas]").count() == 0  # text, not pdf.js
    assert_no_sideways_scroll(page)
    _shot_in_view(page, f"viewer-markdown-{size}-at-passage")
    screenshot(page, f"viewer-markdown-{size}")
    assert page.problems == []
