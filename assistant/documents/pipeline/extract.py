"""Text out of each kind of document, page by page, with headings and paragraphs kept apart.

A PDF gives its pages. DOCX, HTML and Markdown are cut into sections at their top-level headings, an
EPUB into its chapters (the files of its reading order), plain text at form feeds; each part is
numbered from 1, and that number is what a citation names. Parsers are imported on first use.
"""

from __future__ import annotations

import codecs
import logging
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from assistant.documents.models import DocumentKind
from assistant.documents.pipeline.detect import DocumentRejected, text_decode, zip_open, zip_read

if TYPE_CHECKING:
    from lxml.html import HtmlElement  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

PageProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Block:
    """A paragraph (level 0) or a heading (level 1 to 6)."""

    text: str
    level: int = 0

    @property
    def is_heading(self) -> bool:
        return self.level > 0


@dataclass
class Page:
    number: int  # 1-based
    blocks: list[Block] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return any(block.text for block in self.blocks)


def pages_extract(path: Path, *, kind: str, name: str, on_page: PageProgress | None = None) -> list[Page]:
    """The document's pages (or sections). DocumentRejected when it is unreadable or holds no text."""
    report = on_page or (lambda _done, _total: None)
    if kind == DocumentKind.PDF:
        pages = _pdf_pages(path, name=name, on_page=report)
    elif kind == DocumentKind.DOCX:
        pages = _sections(_docx_blocks(path, name=name))
    elif kind == DocumentKind.EPUB:
        pages = _epub_pages(path, name=name, on_page=report)
    elif kind == DocumentKind.HTML:
        pages = _sections(html_blocks(_html_decode(path.read_bytes())))
    elif kind == DocumentKind.MARKDOWN:
        pages = _sections(html_blocks(_markdown_html(_text_read(path, name=name))))
    elif kind == DocumentKind.TEXT:
        pages = [
            Page(number=number, blocks=paragraph_blocks(part))
            for number, part in enumerate(_text_read(path, name=name).split("\f"), start=1)
        ]
    else:
        raise DocumentRejected(f"“{name}” is of a kind Hearth cannot read ({kind}).")
    if not any(page.has_text for page in pages):
        raise DocumentRejected(_no_text_message(name, kind))
    return pages


def _no_text_message(name: str, kind: str) -> str:
    if kind == DocumentKind.PDF:
        return (
            f"No text found in “{name}”. It looks like a scan (pictures of pages without a text layer), "
            "which Hearth cannot read yet: run it through text recognition (OCR) and upload the result."
        )
    return f"No text found in “{name}”."


# --- plain text --------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t\r\v\xa0]*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\v\xa0\u200b]+")


def paragraph_blocks(text: str) -> list[Block]:
    """Paragraphs separated by blank lines; lines inside a paragraph are kept."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = []
    for paragraph in _BLANK_LINE.split(text):
        lines = [_SPACES.sub(" ", line).strip() for line in paragraph.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            blocks.append(Block(joined))
    return blocks


def _text_read(path: Path, *, name: str) -> str:
    text = text_decode(path.read_bytes())
    if text is None:
        raise DocumentRejected(f"“{name}” is not text that Hearth can read (it has binary data in it).")
    return text


# --- PDF -----------------------------------------------------------------------------------------


def _pdf_pages(path: Path, *, name: str, on_page: PageProgress) -> list[Page]:
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
        total = len(reader.pages)
    except DocumentRejected:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentRejected(f"“{name}”: this PDF is password-protected.") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as exc:
        raise DocumentRejected(f"{damaged} ({exc}).") from exc
    if total == 0:
        raise DocumentRejected(f"{damaged}: it has no pages.")
    pages: list[Page] = []
    unreadable = 0
    for index in range(total):
        try:
            text = reader.pages[index].extract_text() or ""
        except Exception:  # pypdf fails in many ways on one odd page; the rest of the file is still worth having
            log.warning("page %s of %s could not be read", index + 1, name, exc_info=True)
            unreadable += 1
            text = ""
        pages.append(Page(number=index + 1, blocks=paragraph_blocks(text)))
        on_page(index + 1, total)
    if unreadable == total:
        raise DocumentRejected(f"{damaged}: none of its {total} pages could be read.")
    return pages


# --- DOCX ----------------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)


def _docx_blocks(path: Path, *, name: str) -> list[Block]:
    # The zip's directory is checked before python-docx inflates any part of it.
    with zip_open(path, name=name):
        pass
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError  # type: ignore[import-untyped]

    try:
        document = docx.Document(str(path))
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                style = item.style.name if item.style is not None else ""
                blocks.extend(_styled_blocks(item.text, style or ""))
            else:
                for row in item.rows:
                    cells: list[str] = []
                    for cell in row.cells:  # a merged cell comes back once per grid column
                        text = " ".join(cell.text.split())
                        if text and (not cells or cells[-1] != text):
                            cells.append(text)
                    if cells:
                        blocks.append(Block(" | ".join(cells)))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, LxmlError, AttributeError) as exc:
        raise DocumentRejected(f"“{name}” is damaged and cannot be read as a Word document ({exc}).") from exc
    return blocks


def _styled_blocks(text: str, style: str) -> list[Block]:
    text = " ".join(_CONTROL.sub("", text).split())
    if not text:
        return []
    match = _HEADING_STYLE.match(style.strip())
    if match:
        return [Block(text, level=min(max(int(match.group(1)), 1), 6))]
    if style.strip().lower() == "title":
        return [Block(text, level=1)]
    return [Block(text)]


# --- HTML and Markdown ---------------------------------------------------------------------------

_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
))  # fmt: skip
_SKIP_TAGS = frozenset((
    "script", "style", "noscript", "template", "svg", "math", "head", "iframe", "object", "embed", "canvas",
    "nav", "select", "option", "textarea", "button",
))  # fmt: skip
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BREAK = "\x00"  # stands for <br> while whitespace is collapsed
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


def _html_decode(data: bytes) -> str:
    """HTML's bytes as text: a BOM, else UTF-8, else the charset its <meta> declares, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(codecs.lookup(declared.group(1).decode("ascii")).name, errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")


def _markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


class _BlockCollector:
    """Walks an HTML tree and collects its paragraphs and headings in reading order."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.pre = 0

    def flush(self) -> None:
        raw = "".join(self.buffer)
        self.buffer = []
        if self.pre:
            lines = [line.rstrip() for line in raw.replace(_BREAK, "\n").split("\n")]
        else:
            lines = [_SPACES.sub(" ", line.replace("\n", " ")).strip() for line in raw.split(_BREAK)]
        text = "\n".join(line for line in lines if line.strip()).strip("\n")
        text = _CONTROL.sub("", text)
        if text.strip():
            self.blocks.append(Block(text))

    def walk(self, element: HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else None  # comments have a function as tag
        tag = tag.lower().rpartition("}")[2] if tag else None  # XHTML tags carry a namespace
        if tag is None or tag in _SKIP_TAGS:
            pass
        elif tag in _HEADINGS:
            self.flush()
            text = " ".join(_CONTROL.sub("", element.text_content()).split())
            if text:
                self.blocks.append(Block(text, level=_HEADINGS[tag]))
        else:
            is_block = tag in _BLOCK_TAGS
            if is_block:
                self.flush()
            if tag == "pre":
                self.pre += 1
            if tag == "br":
                self.buffer.append(_BREAK)
            elif tag in ("td", "th") and self.buffer and "".join(self.buffer).strip():
                self.buffer.append(" | ")
            if element.text:
                self.buffer.append(element.text.replace(_BREAK, ""))
            for child in element:
                self.walk(child)
            if tag == "pre":
                self.pre -= 1
            if is_block:
                self.flush()
        if element.tail:
            self.buffer.append(element.tail.replace(_BREAK, ""))


def html_blocks(markup: str) -> list[Block]:
    """Paragraphs and headings of an HTML page; scripts, styles and navigation are left out."""
    import lxml.html  # type: ignore[import-untyped]
    from lxml.etree import LxmlError, ParserError

    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup.strip():
        return []
    try:
        root = lxml.html.document_fromstring(markup)
    except (ParserError, LxmlError, ValueError):
        return []
    body = root.find("body")
    if body is None:
        body = next((child for child in root if str(child.tag).lower().endswith("body")), root)
    collector = _BlockCollector()
    try:
        collector.walk(body)
    except RecursionError:  # absurdly deep nesting: keep what was read
        collector.buffer = []
    collector.flush()
    return collector.blocks


def _sections(blocks: Iterable[Block]) -> list[Page]:
    """Cut blocks into sections at the highest level of heading used; a run of headings stays together."""
    blocks = list(blocks)
    levels = [block.level for block in blocks if block.is_heading]
    top = min(levels) if levels else 0
    pages: list[Page] = []
    current: list[Block] = []
    for block in blocks:
        starts_section = bool(top) and block.level == top
        if starts_section and any(not b.is_heading for b in current):
            pages.append(Page(number=len(pages) + 1, blocks=current))
            current = []
        current.append(block)
    if current:
        pages.append(Page(number=len(pages) + 1, blocks=current))
    return pages


# --- EPUB ----------------------------------------------------------------------------------------


def _xml(data: bytes, *, name: str, member: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.LxmlError as exc:
        raise DocumentRejected(f"“{name}” is damaged: {member} inside it is not readable ({exc}).") from exc
    if root is None:
        raise DocumentRejected(f"“{name}” is damaged: {member} inside it is empty.")
    return root


def _epub_pages(path: Path, *, name: str, on_page: PageProgress) -> list[Page]:
    with zip_open(path, name=name) as archive:
        container = _xml(zip_read(archive, "META-INF/container.xml", name=name), name=name, member="container.xml")
        rootfile = next((el.get("full-path") for el in container.iter() if str(el.tag).endswith("rootfile")), None)
        if not rootfile:
            raise DocumentRejected(f"“{name}” is damaged: it does not say where its contents are.")
        package = _xml(zip_read(archive, rootfile, name=name), name=name, member=rootfile)
        base = posixpath.dirname(rootfile)
        manifest = {
            el.get("id"): el.get("href") for el in package.iter() if str(el.tag).endswith("}item") or el.tag == "item"
        }
        spine = [el.get("idref") for el in package.iter() if str(el.tag).endswith("itemref") or el.tag == "itemref"]
        members = set(archive.namelist())
        pages: list[Page] = []
        for index, idref in enumerate(spine, start=1):
            href = manifest.get(idref)
            member = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0]))) if href else ""
            if member in members:
                blocks = html_blocks(_html_decode(zip_read(archive, member, name=name)))
                if blocks:
                    pages.append(Page(number=len(pages) + 1, blocks=blocks))
            on_page(index, len(spine))
    return pages
