"""Cutting pages into overlapping passages that respect headings, paragraphs and words.

A page's text is its blocks joined by blank lines; each passage keeps its start and end offsets in
that text. A heading always starts a new passage (headings in a row stay together), and passages
never cross a page. Inside a section, a passage ends at the last paragraph break, else line break,
else sentence end, else space before the size limit, and the next one starts about `overlap`
characters earlier, at the start of a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.documents.pipeline.extract import Block, Page

HEADING_PATH_SEPARATOR = " \u203a "  # a single right-pointing angle quotation mark
MAX_HEADING_CHARS = 300
_SENTENCE_END = re.compile("[.!?\u2026][\"'\u201d\u2019)\\]]*\\s")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Chunk:
    number: int  # 0-based, in reading order across the document
    page: int
    heading: str  # the headings the passage falls under, outermost first
    start: int  # offsets in the page's text
    end: int
    text: str

    @property
    def embedding_text(self) -> str:
        """What is embedded: the passage, led by its headings when it does not start with them."""
        if self.heading and not self.text.startswith(self.heading.rpartition(HEADING_PATH_SEPARATOR)[2]):
            return f"{self.heading}\n{self.text}"
        return self.text


def page_text(page: Page) -> str:
    return "\n\n".join(block.text for block in page.blocks)


def chunks_make(pages: Sequence[Page], *, size: int = 800, overlap: int = 150) -> list[Chunk]:
    size = max(size, 20)
    overlap = max(0, min(overlap, size // 3))
    chunks: list[Chunk] = []
    headings: list[Block] = []  # the headings in force, outermost first
    for page in pages:
        text = page_text(page)
        for group_start, group_end, group_headings in _groups(page.blocks, headings):
            heading = HEADING_PATH_SEPARATOR.join(block.text for block in group_headings)[:MAX_HEADING_CHARS]
            for start, end in _windows(text, group_start, group_end, size=size, overlap=overlap):
                chunks.append(
                    Chunk(
                        number=len(chunks),
                        page=page.number,
                        heading=heading,
                        start=start,
                        end=end,
                        text=text[start:end],
                    )
                )
    return chunks


def _groups(blocks: Sequence[Block], headings: list[Block]) -> Iterator[tuple[int, int, list[Block]]]:
    """Spans of the page's text that start at a heading; `headings` carries over between pages."""
    offset = 0
    group_start = 0
    group_has_body = False
    group_headings = list(headings)
    for index, block in enumerate(blocks):
        if index:
            offset += 2  # the blank line between blocks
        if block.is_heading:
            if group_has_body:
                yield group_start, offset - (2 if index else 0), group_headings
                group_start, group_has_body = offset, False
            headings[:] = [h for h in headings if h.level < block.level] + [block]
            group_headings = list(headings)
        else:
            group_has_body = True
        offset += len(block.text)
    if offset > group_start:
        yield group_start, offset, group_headings


def _windows(text: str, start: int, end: int, *, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each passage of text[start:end], trimmed of surrounding whitespace."""
    position = _skip_space(text, start, end)
    while position < end:
        stop = end if end - position <= size else _break_before(text, position, position + size, end)
        trimmed = stop
        while trimmed > position and text[trimmed - 1].isspace():
            trimmed -= 1
        if trimmed > position:
            yield position, trimmed
        if stop >= end:
            return
        following = _word_start(text, max(stop - overlap, position + 1), stop)
        position = _skip_space(text, following, end)


def _break_before(text: str, start: int, limit: int, end: int) -> int:
    """Where a passage from `start` should end, at most at `limit` (past it only for a giant word)."""
    floor = start + (limit - start) // 2
    window = text[floor:limit]
    paragraph = window.rfind("\n\n")
    if paragraph >= 0:
        return floor + paragraph
    line = window.rfind("\n")
    if line >= 0:
        return floor + line
    sentences = list(_SENTENCE_END.finditer(window))
    if sentences:
        return floor + sentences[-1].end() - 1
    space = max(text.rfind(" ", start + 1, limit), text.rfind("\t", start + 1, limit))
    if space > start:
        return space
    # One word longer than a passage (a URL, a hash): end after it if it is not absurd, else cut.
    after = _WHITESPACE.search(text, limit, min(end, start + 4 * (limit - start)))
    return after.start() if after else limit


def _word_start(text: str, position: int, stop: int) -> int:
    """The first start of a word at or after `position`, or `stop` when none is before it."""
    while position < stop and not (text[position - 1].isspace() and not text[position].isspace()):
        position += 1
    return position


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position
