"""A PDF's text as a person reads it: without running headers and footers, in headings and paragraphs.

pypdf opens the file and checks it (damaged, password-protected, no pages); PDFium (pypdfium2, about
ten times faster, and it keeps kerned words whole where pypdf splits them: "archi ve") reads each page's
text, with pypdf as the fallback when PDFium is not installed or fails on the file. The text comes as
lines; nothing in it says which line is a heading or where a paragraph ends. This module works that
out from the lines alone, so it suits any PDF:
- a line that opens or closes most pages (digits aside: "Page 3 of 20", "TAR(1) ... TAR(1)") is a
  running header or footer, and is dropped;
- a word broken at a line's end (PDFium marks the soft hyphen as U+FFFE) is joined again;
- a short line in capitals ("OPTIONS", "SEE ALSO") is a heading;
- a paragraph ends after a short line that ends a sentence, and a new one starts at a list item, a
  command-line option ("-C, --directory=DIR"), or a short term line ("ServerAliveInterval") that a
  definition follows, so each entry of a reference manual becomes a paragraph of its own.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.documents.pipeline.detect import DocumentRejected
from assistant.documents.pipeline.extract import Block, Page

log = logging.getLogger(__name__)

EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running header or footer
REPEATED_SHARE = 0.5  # a line at the edge of at least this share of the pages is running
MIN_PAGES_FOR_REPEATS = 3
_SOFT_HYPHENS = ("\ufffe", "\u00ad", "\u2010")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"[ \t\xa0\u2002-\u200b]+")
_OPTION = re.compile(r"^[-+]{1,2}[A-Za-z0-9?#]")
_BULLETS = "\u2022\u25cf\u25aa\u25e6\u2023\u2219\u2013*\u00b7"
_LIST_ITEM = re.compile(rf"^(?:[{_BULLETS}]|o(?= [A-Z(\"'])|\d{{1,2}}[.)]|\([a-z0-9]\))\s+\S")
_SENTENCE_END = re.compile(r"[.:!?;][\"'\u201d\u2019)\]]*$")
_TERM_END = re.compile(r"[.,;:]$")


def page_lines(text: str) -> list[str]:
    """A page's text as clean lines: one kind of line break, single spaces, no empty lines."""
    lines = []
    for mark in _SOFT_HYPHENS[:2]:  # PDFium keeps a word broken at a line's end on one line, with this mark
        text = text.replace(mark, "")
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if line:
            lines.append(line)
    return lines


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", line.lower().replace(" ", ""))


def running_lines_strip(pages: Sequence[list[str]]) -> list[list[str]]:
    """The pages without the lines that head or foot most of them (page numbers and dates may differ)."""
    if len(pages) < MIN_PAGES_FOR_REPEATS:
        return [list(lines) for lines in pages]
    seen: Counter[str] = Counter()
    for lines in pages:
        if len(lines) > 2 * EDGE_LINES:  # a page this short is all content (a slide, a generated form)
            seen.update({_edge_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    running = {key for key, count in seen.items() if count >= max(MIN_PAGES_FOR_REPEATS, REPEATED_SHARE * len(pages))}
    stripped = []
    for lines in pages:
        if len(lines) <= 2 * EDGE_LINES:
            stripped.append(list(lines))
            continue
        top = 0
        while top < min(EDGE_LINES, len(lines)) and _edge_key(lines[top]) in running:
            top += 1
        bottom = len(lines)
        while bottom > max(top, len(lines) - EDGE_LINES) and _edge_key(lines[bottom - 1]) in running:
            bottom -= 1
        stripped.append(lines[top:bottom])
    return stripped


def _joined(lines: Sequence[str]) -> list[str]:
    """Lines with words broken by a hyphen at the line's end joined again."""
    joined: list[str] = []
    for line in lines:
        if joined:
            previous = joined[-1]
            if previous.endswith(_SOFT_HYPHENS):
                joined[-1] = previous[:-1] + line
                continue
            if len(previous) > 1 and previous.endswith("-") and previous[-2].islower() and line[:1].islower():
                joined[-1] = previous[:-1] + line
                continue
        joined.append(line)
    return joined


def is_heading(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return (
        len(letters) >= 3
        and len(line) <= 60
        and all(ch.isupper() for ch in letters)
        and not _OPTION.match(line)
        and not line.endswith((".", ","))
    )


def _typical_width(lines: Sequence[str]) -> int:
    lengths = sorted(len(line) for line in lines)
    return lengths[int(len(lengths) * 0.8)] if lengths else 0


def _starts_entry(line: str, following: str | None, width: int) -> bool:
    """A list item, an option, or a short term line with its definition on the next line."""
    if _OPTION.match(line) or _LIST_ITEM.match(line):
        return True
    if following is None or width < 30:
        return False
    return len(line) <= min(60, width // 2) and not _TERM_END.search(line) and len(following) > len(line)


def lines_blocks(lines: Sequence[str], width: int | None = None) -> list[Block]:
    """Headings and paragraphs of a page's lines (after running_lines_strip)."""
    lines = _joined(lines)
    width = width if width is not None else _typical_width(lines)
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("\n".join(paragraph)))
            paragraph.clear()

    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        if is_heading(line):
            flush()
            blocks.append(Block(line, level=1))
            continue
        if paragraph and _starts_entry(line, following, width):
            flush()
        paragraph.append(line)
        if _SENTENCE_END.search(line) and len(line) < 0.8 * width:
            flush()
    flush()
    return blocks


def document_width(pages: Sequence[Sequence[str]]) -> int:
    """The typical length of a full line over the whole document."""
    return _typical_width([line for lines in pages for line in lines])


# --- opening the file and reading its pages ---------------------------------------------------------


def _pypdf_open(path: Path, *, name: str) -> Any:
    """A pypdf reader of the file, decrypted when it opens without a password. DocumentRejected otherwise."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    damaged = f"“{name}” is damaged and cannot be read as a PDF"
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to restrict printing, and open without a password.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise DocumentRejected(f"“{name}” is encrypted in a way Hearth cannot open ({exc}).") from exc
            if not opened:
                raise DocumentRejected(
                    f"“{name}”: this PDF is password-protected. Save a copy without the password "
                    "(for example with “Print to PDF”) and upload that."
                )
        if len(reader.pages) == 0:
            raise DocumentRejected(f"{damaged}: it has no pages.")
    except DocumentRejected:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentRejected(f"“{name}”: this PDF is password-protected.") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as exc:
        raise DocumentRejected(f"{damaged} ({exc}).") from exc
    return reader


def _pdfium_texts(path: Path, total: int, on_page: Callable[[int, int], None]) -> list[str] | None:
    """Each page's text by PDFium; None when PDFium is not installed or cannot read the file."""
    try:
        import pypdfium2  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        document = pypdfium2.PdfDocument(str(path))
        try:
            if len(document) != total:
                return None
            texts = []
            for index in range(total):
                page = document[index]
                texts.append(page.get_textpage().get_text_range())
                on_page(index + 1, total)
            return texts
        finally:
            document.close()
    except Exception:  # an odd file PDFium dislikes: pypdf reads it instead
        log.warning("PDFium could not read %s; reading it with pypdf", path.name, exc_info=True)
        return None


def _pypdf_texts(reader: Any, *, name: str, on_page: Callable[[int, int], None]) -> list[str | None]:
    total = len(reader.pages)
    texts: list[str | None] = []
    for index in range(total):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception:  # pypdf fails in many ways on one odd page; the rest of the file is still worth having
            log.warning("page %s of %s could not be read", index + 1, name, exc_info=True)
            texts.append(None)
        on_page(index + 1, total)
    return texts


def pdf_pages(path: Path, *, name: str, on_page: Callable[[int, int], None]) -> list[Page]:
    """The PDF's pages as headings and paragraphs. DocumentRejected when it cannot be read at all."""
    reader = _pypdf_open(path, name=name)
    total = len(reader.pages)
    texts: list[str | None] | None = list(_pdfium_texts(path, total, on_page) or []) or None
    if texts is None:
        texts = _pypdf_texts(reader, name=name, on_page=on_page)
    if all(text is None for text in texts):
        raise DocumentRejected(
            f"“{name}” is damaged and cannot be read as a PDF: none of its {total} pages could be read."
        )
    lines = running_lines_strip([page_lines(text or "") for text in texts])
    width = document_width(lines)
    return [Page(number=number, blocks=lines_blocks(page, width)) for number, page in enumerate(lines, start=1)]
