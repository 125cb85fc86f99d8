"""What a file is, read from its bytes: the name's extension only words the message when it lies.

A DOCX or EPUB is a zip, so before anything opens one its directory is checked for what it would
unpack to: a small file that expands to gigabytes (a zip bomb) is refused without inflating a byte.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from django.conf import settings

from assistant.documents.models import DocumentKind

SUPPORTED = "Hearth reads PDF, Word (.docx), EPUB, HTML, Markdown and plain-text files."
HEAD_BYTES = 64 * 1024
# A zip with more entries than this is no document.
MAX_ZIP_ENTRIES = 10_000
# Entries that unpack to more than this may not be compressed more than MAX_ZIP_RATIO times;
# real documents' XML stays well under it, zip bombs are compressed a thousandfold.
RATIO_CHECK_BYTES = 1024 * 1024
MAX_ZIP_RATIO = 200
# Share of control characters beyond which "text" is really binary data.
MAX_CONTROL_SHARE = 0.01

_CLAIMED = {
    ".pdf": "a PDF",
    ".docx": "a Word document",
    ".epub": "an EPUB book",
    ".html": "a web page",
    ".htm": "a web page",
    ".xhtml": "a web page",
    ".md": "a Markdown file",
    ".markdown": "a Markdown file",
    ".txt": "a text file",
}
_MARKDOWN_EXTENSIONS = {".md", ".markdown", ".mdown", ".mkd"}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "a program (an executable file)"),
    (b"MZ", "a Windows program (an executable file)"),
    (b"\xfe\xed\xfa\xce", "a Mac program (an executable file)"),
    (b"\xfe\xed\xfa\xcf", "a Mac program (an executable file)"),
    (b"\xce\xfa\xed\xfe", "a Mac program (an executable file)"),
    (b"\xcf\xfa\xed\xfe", "a Mac program (an executable file)"),
    (b"\xca\xfe\xba\xbe", "a program (an executable file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.doc, .xls or .ppt): save it as .docx first"),
    (b"\x89PNG", "a picture (PNG)"),
    (b"\xff\xd8\xff", "a picture (JPEG)"),
    (b"GIF8", "a picture (GIF)"),
    (b"{\\rtf", "a Rich Text file: save it as .docx first"),
    (b"\x1f\x8b", "a compressed archive (gzip)"),
    (b"7z\xbc\xaf\x27\x1c", "a compressed archive (7-Zip)"),
    (b"Rar!", "a compressed archive (RAR)"),
)
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_HTML_TAGS = re.compile(r"<(html|head|body)[\s>]|</(p|div|h[1-6]|table|ul|ol|li|span|a)>", re.I)
_MARKDOWN_HEADING = re.compile(r"^(#{1,6}[ \t]+\S|[^\n]+\n(=+|-+)[ \t]*$)", re.M)


class DocumentRejected(ValueError):
    """The file cannot be indexed; the message says why, in words a member understands."""


def kind_detect(path: Path, *, name: str) -> DocumentKind:
    """The kind of document in `path`, or DocumentRejected. `name` is only used in messages."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise DocumentRejected(f"“{name}” is empty.")
    # The PDF header may follow a little junk; readers accept it anywhere in the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return DocumentKind.PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path, name=name)
    for signature, what in _SIGNATURES:
        # "MZ" also starts ordinary sentences; a program's header has NUL bytes right after it.
        if head.startswith(signature) and (signature != b"MZ" or b"\x00" in head[:256]):
            raise DocumentRejected(_not_a_document(name, what))
    text = _decode_head(head)
    if text is None:
        raise DocumentRejected(_not_a_document(name, "binary data, not text"))
    if _HTML_START.match(head) or (text.lstrip().startswith("<") and _HTML_TAGS.search(text)):
        return DocumentKind.HTML
    if Path(name).suffix.lower() in _MARKDOWN_EXTENSIONS or _MARKDOWN_HEADING.search(text):
        return DocumentKind.MARKDOWN
    return DocumentKind.TEXT


def zip_check(archive: zipfile.ZipFile, *, name: str) -> None:
    """Refuse an archive whose directory promises far more than a document unpacks to."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise DocumentRejected(f"“{name}” holds {len(entries):,} files inside; no real document has that many.")
    total = sum(entry.file_size for entry in entries)
    limit = settings.HEARTH_DOCUMENT_MAX_UNPACKED_BYTES
    if total > limit:
        raise DocumentRejected(
            f"“{name}” would unpack to {total / 1024**2:,.0f} MB, more than the {limit / 1024**2:,.0f} MB "
            "Hearth opens safely (it may be a zip bomb)."
        )
    for entry in entries:
        if entry.file_size > RATIO_CHECK_BYTES and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
            raise DocumentRejected(
                f"“{name}” is compressed far more than any real document ({entry.filename} would grow "
                f"{entry.file_size // max(entry.compress_size, 1):,} times). "
                "It looks like a zip bomb, so it was refused."
            )


def zip_open(path: Path, *, name: str) -> zipfile.ZipFile:
    """The archive, checked; DocumentRejected when it is broken or a bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentRejected(f"“{name}” is damaged: its zip structure cannot be read ({exc}).") from exc
    try:
        zip_check(archive, name=name)
    except DocumentRejected:
        archive.close()
        raise
    return archive


def zip_read(archive: zipfile.ZipFile, member: str, *, name: str) -> bytes:
    """One member's bytes. Reading stops at the size the directory declared, which zip_check bounded."""
    try:
        return archive.read(member)
    except KeyError as exc:
        raise DocumentRejected(f"“{name}” is damaged: {member} is missing inside it.") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise DocumentRejected(f"“{name}” is damaged: {member} inside it cannot be unpacked ({exc}).") from exc


def _zip_kind(path: Path, *, name: str) -> DocumentKind:
    with zip_open(path, name=name) as archive:
        names = set(archive.namelist())
        if "word/document.xml" in names:
            return DocumentKind.DOCX
        if "META-INF/container.xml" in names:
            return DocumentKind.EPUB
        if "mimetype" in names and zip_read(archive, "mimetype", name=name).strip() == b"application/epub+zip":
            return DocumentKind.EPUB
        if "xl/workbook.xml" in names:
            what = "an Excel workbook, which Hearth cannot index yet"
        elif "ppt/presentation.xml" in names:
            what = "a PowerPoint presentation, which Hearth cannot index yet"
        elif "content.xml" in names:
            what = "an OpenDocument file: save it as .docx first"
        else:
            what = "a zip archive: unpack it and upload the documents inside"
    raise DocumentRejected(_not_a_document(name, what))


def _not_a_document(name: str, what: str) -> str:
    claimed = _CLAIMED.get(Path(name).suffix.lower(), "a supported document")
    return f"“{name}” is not {claimed}: it is {what}. {SUPPORTED}"


def text_decode(data: bytes, *, final: bool = True) -> str | None:
    """The bytes as text (UTF-8, UTF-16 with a BOM, else Windows-1252), or None when they are not text.

    With final=False the bytes are a file's head, and a character cut at the end is not an error.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    elif b"\x00" in data:
        return None
    else:
        candidates = ("utf-8", "cp1252")
    for encoding in candidates:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=final)
        except UnicodeDecodeError:
            continue
        control = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0)
        if control > MAX_CONTROL_SHARE * max(len(text), 1):
            return None
        return text
    return None


def _decode_head(head: bytes) -> str | None:
    return text_decode(head, final=False)
