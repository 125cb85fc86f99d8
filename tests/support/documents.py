"""Builders for the documents the tests upload: real PDFs (pypdf), DOCX (python-docx), EPUB, and bad input.

Everything is built in memory in a few milliseconds; nothing is read from disk or the network.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
from collections.abc import Sequence

from django.core.files.uploadedfile import SimpleUploadedFile


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    """What a browser's multipart upload gives a view."""
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(pages: Sequence[Sequence[str]], *, password: str | None = None, text_layer: bool = True) -> bytes:
    """A PDF whose page N shows the lines of pages[N] in Helvetica.

    With text_layer=False each page only has a grey box, as a scan has a picture and no text.
    With a password, the PDF is encrypted so that it cannot be opened without it.
    """
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        if text_layer:
            operations = ["BT", "/F1 10 Tf", "13 TL", "50 750 Td"]
            operations += [f"{_pdf_string(line)} Tj T*" for line in lines]
            operations.append("ET")
        else:
            operations = ["0.7 g", "50 50 512 692 re f"]
        content = StreamObject()
        content.set_data("\n".join(operations).encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(content)
    if password:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(blocks: Sequence[tuple[str, str]], *, table: Sequence[Sequence[str]] = ()) -> bytes:
    """A Word document: ("h1", text) and ("h2", text) are headings, ("p", text) paragraphs."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_bomb_bytes(*, padding_mb: int = 20) -> bytes:
    """A real DOCX with a part of zeros that deflates a thousandfold: a (small) zip bomb."""
    out = io.BytesIO(docx_bytes([("p", "Looks harmless.")]))
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", bytes(padding_mb * 1024 * 1024))
    return out.getvalue()


def docx_with_lying_directory(*, claimed_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A DOCX whose zip directory claims that one part unpacks to `claimed_bytes` (a bomb's directory)."""
    out = io.BytesIO(docx_bytes([("p", "Looks harmless.")]))
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/huge.bin", b"x" * 1000)
    data = bytearray(out.getvalue())
    target = b"word/media/huge.bin"
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == target:
            struct.pack_into("<I", data, position + 24, claimed_bytes)  # uncompressed size
            return bytes(data)
        position = data.find(b"PK\x01\x02", position + 4)
    raise AssertionError("central directory entry not found")


def epub_bytes(chapters: Sequence[tuple[str, Sequence[str]]]) -> bytes:
    """A minimal EPUB 3 book: one XHTML file per (title, paragraphs) chapter, in reading order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{n}" href="text/chapter{n}.xhtml" media-type="application/xhtml+xml"/>'
            for n in range(1, len(chapters) + 1)
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(1, len(chapters) + 1))
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Test book</dc:title></metadata>'
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for n, (title, paragraphs) in enumerate(chapters, start=1):
            body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
            archive.writestr(
                f"OEBPS/text/chapter{n}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>",
            )
    return out.getvalue()


# A 64-bit ELF header: what a program renamed to .pdf starts with.
ELF_PROGRAM = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 512


def filler(topic: str, sentences: int) -> str:
    """Plausible prose about `topic`, for documents that need several passages."""
    return " ".join(
        f"Note {n} about {topic}: the household keeps this record so that anyone can find it again later."
        for n in range(1, sentences + 1)
    )


def document_collections_drop() -> None:
    """Delete every member's documents collection on the Chroma server: owner and document ids repeat
    between tests, their vectors must not."""
    from chromadb.errors import NotFoundError

    from assistant.core.vectors import chroma_client
    from assistant.documents.pipeline.store import COLLECTION_PREFIX

    client = chroma_client()
    for collection in client.list_collections():
        if collection.name.startswith(COLLECTION_PREFIX):
            with contextlib.suppress(NotFoundError):  # another process dropped it first
                client.delete_collection(collection.name)
