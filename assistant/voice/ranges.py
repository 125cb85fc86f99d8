"""Audio served with HTTP range requests: a player asks for bytes from where the member seeks to,
and browsers only let a member jump to 1:42 when the server answers those requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _span(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range, or None when the header asks for no valid range."""
    match = _RANGE.match(header.strip())
    if not match or size == 0 or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # the last N bytes
        first, last = max(0, size - int(last_text)), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    return (first, last) if first <= last and first < size else None


def _read(path: Path, first: int, last: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            piece = handle.read(min(CHUNK, remaining))
            if not piece:
                return
            remaining -= len(piece)
            yield piece


def ranged_file_response(*, path: Path, content_type: str, range_header: str) -> HttpResponse | StreamingHttpResponse:
    """200 with the whole file, 206 with the asked range, or 416 when the range is outside the file."""
    size = path.stat().st_size
    span = _span(range_header, size) if range_header else None
    if range_header and span is None and _RANGE.match(range_header.strip()):
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = span if span is not None else (0, size - 1)
    streamed = StreamingHttpResponse(_read(path, first, last), content_type=content_type, status=206 if span else 200)
    streamed["Content-Length"] = str(last - first + 1)
    streamed["Accept-Ranges"] = "bytes"
    streamed["Cache-Control"] = "private, max-age=3600"
    if span is not None:
        streamed["Content-Range"] = f"bytes {first}-{last}/{size}"
    return streamed
