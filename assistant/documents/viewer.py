"""What the document viewer shows: the cited passage, and for kinds other than PDF the text of a section.

A citation names a document, its page (PDF) or section, and the passage: its number ("passage=8", as
the document's page lists it), or, for links that predate passage numbers, the passage's first words
("q=..."). A PDF is drawn in the browser by pdf.js from the file itself. For the other kinds the viewer
shows the text Hearth extracted, rebuilt from the passages (each keeps its offsets in its section's
text), so no parser runs on the web path and a moved or damaged file still shows its words.
Callers check ownership: every function here trusts the document it is given.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from assistant.documents.pipeline.chunk import HEADING_PATH_SEPARATOR
from assistant.models import Document, DocumentChunk, DocumentKind

# What the file view says each kind is. Only a PDF is shown inline (pdf.js reads it); the others are
# downloaded, so a web page a member uploaded never runs as a page of Hearth.
FILE_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.EPUB: "application/epub+zip",
    DocumentKind.HTML: "text/html",
    DocumentKind.MARKDOWN: "text/markdown",
    DocumentKind.TEXT: "text/plain",
}
MAX_WORDS = 40  # of a "q=" snippet: enough to find the passage, short enough for a URL
_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?!\n))+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Cited:
    """The passage a citation points at."""

    page: int  # 1-based page (PDF) or section
    passage: int | None  # 1-based passage number, when the passage was found
    text: str  # what the viewer highlights: the passage, else the words the link gave, else ""
    start: int = -1  # offsets of the passage in its section's text, when known
    end: int = -1


@dataclass(frozen=True)
class Piece:
    text: str
    cited: bool = False
    first: bool = False  # the first cited piece: the viewer scrolls to it


@dataclass
class Paragraph:
    heading: bool
    pieces: list[Piece] = field(default_factory=list)


def snippet_words(text: str) -> str:
    """The first MAX_WORDS words of a link's snippet, on single spaces."""
    return " ".join(text.split()[:MAX_WORDS])[:1000]


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def passage_cited(*, document: Document, page: int | None, passage: int | None, words: str) -> Cited:
    """The cited passage: by its number, else the passage on `page` that holds `words`, else just the page."""
    chunks = DocumentChunk.objects.filter(document=document)
    if passage is not None:
        row = chunks.filter(number=passage - 1).values_list("page", "text", "start", "end").first()
        if row is not None:
            return Cited(page=row[0], passage=passage, text=row[1], start=row[2], end=row[3])
    last = max(document.page_count, 1)
    page = min(max(page or 1, 1), last)
    words = snippet_words(words)
    wanted = _normal(words)
    if wanted:
        rows = chunks.filter(page=page).order_by("number").values_list("number", "text", "start", "end")
        for number, text, start, end in rows:
            if wanted in _normal(text):
                return Cited(page=page, passage=number + 1, text=text, start=start, end=end)
    return Cited(page=page, passage=None, text=words)


def section_text(rows: list[tuple[int, int, str]]) -> str:
    """A section's text from its passages' (start, end, text), with the blank lines between blocks again.

    Passages overlap or leave only whitespace between them (the blank line between two blocks, or the
    space where a long block was cut), so the gaps are filled with line breaks (or one space) of the
    same length and every offset stays true."""
    parts: list[str] = []
    cursor = 0
    for start, end, text in sorted(rows):
        if start > cursor:
            gap = start - cursor
            parts.append("\n" * gap if gap > 1 else " ")
            cursor = start
        if end > cursor:
            parts.append(text[cursor - start :])
            cursor = end
    return "".join(parts)


def section_paragraphs(*, document: Document, page: int, cited: Cited) -> list[Paragraph]:
    """The section's paragraphs and headings, the cited passage marked in them (the template escapes all)."""
    rows = list(
        DocumentChunk.objects.filter(document=document, page=page).values_list("start", "end", "text", "heading")
    )
    text = section_text([(start, end, body) for start, end, body, _heading in rows])
    headings = {part for *_rest, heading in rows for part in heading.split(HEADING_PATH_SEPARATOR) if part}
    low, high = (cited.start, cited.end) if cited.page == page and cited.start >= 0 else (-1, -1)
    if low < 0 and cited.page == page and cited.text:
        found = text.find(cited.text)
        low, high = (found, found + len(cited.text)) if found >= 0 else (-1, -1)
    paragraphs: list[Paragraph] = []
    marked = False
    for match in _PARAGRAPH.finditer(text):
        body = match.group(0).strip()
        if not body:
            continue
        start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        end = start + len(body)
        paragraph = Paragraph(heading=body in headings and "\n" not in body)
        cuts = sorted({start, end, *(x for x in (low, high) if start < x < end)})
        for left, right in itertools.pairwise(cuts):
            inside = low <= left and right <= high
            paragraph.pieces.append(Piece(text[left:right], cited=inside, first=inside and not marked))
            marked = marked or inside
        paragraphs.append(paragraph)
    return paragraphs
