"""Hearth's web server: daphne, with the body limits applied where the bytes arrive.

Daphne (through Twisted) receives a request's whole body into a temporary file before it starts
the ASGI application, so an ASGI middleware alone cannot refuse a body before it is read. Here the
same limits as the request gate (assistant.core.bodygate) are checked as soon as the headers are in:

- a declared length over the limit is answered 413 at once, and the connection closed unread;
- a body without a declared length is cut off with a 413 when it passes the limit;
- an upload route's raw body is read only once its session is found to be a member's (the owner's,
  for owner-only routes; checked in a thread while the connection is paused), and is written as it
  arrives to DATA_DIR/tmp/uploads,
  and handed to the application as a file path (ASGI extension "hearth.staged_body") instead of
  being pushed through the event loop in 8 KB messages. The file is removed when the request ends;
  a service that keeps the upload moves it first.

Run it as `python -m assistant.core.web` with daphne's own arguments.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import daphne.server  # first: it installs Twisted's asyncio reactor
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from django.conf import settings
from django.http import parse_cookie
from twisted.internet.threads import deferToThread

from assistant.core.bodygate import member_may_upload, too_large_message
from assistant.core.uploads import (
    STAGED_BODY_EXTENSION,
    UploadRoute,
    is_raw_body,
    staging_folder,
    upload_route_for,
)
from assistant.jobs.remote import WEB_PROCESS_ENV

# Larger than any frame a page sends, so an oversized chat message reaches the consumer, which
# answers "too long" and keeps the socket (daphne's own 1 MB limit dropped it without a word).
WEBSOCKET_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class StagedBodyFile(io.FileIO):
    """A request body written to the staging folder; reads as empty, so daphne sends no bytes on."""

    def __init__(self, folder: Path) -> None:
        fd, raw_path = tempfile.mkstemp(dir=folder, prefix="upload-")
        super().__init__(fd, "w+b")
        self.path = Path(raw_path)
        self.size = 0

    def write(self, data: Any) -> int:
        written = super().write(data) or 0
        self.size += written
        return written

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def close(self) -> None:
        super().close()
        self.path.unlink(missing_ok=True)


class _Discard(io.RawIOBase):
    def write(self, data: Any) -> int:
        return len(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


def _gate_limits(*, method: bytes, path: bytes, headers: Any) -> tuple[int, UploadRoute | None, str]:
    """(limit in bytes, the upload route, the session key) for a request's headers.

    The route is given only for a raw upload body from a request carrying a session cookie; its
    larger limit holds once that session is found to be a member's (checked in a thread)."""
    route = upload_route_for(path.split(b"?", 1)[0].decode("latin1"))
    content_type = (headers.getRawHeaders(b"content-type") or [b""])[0].decode("latin1")
    cookies = "; ".join(value.decode("latin1") for value in headers.getRawHeaders(b"cookie") or [])
    session_key = parse_cookie(cookies).get(settings.SESSION_COOKIE_NAME, "")
    small = int(settings.HEARTH_REQUEST_MAX_BYTES)
    if route is not None and method in (b"POST", b"PUT") and session_key and is_raw_body(content_type=content_type):
        return route.limit(), route, session_key
    return small, None, ""


class GatedRequest(WebRequest):  # type: ignore[misc]  # daphne ships no types
    content: Any
    refused = False
    limit = 0
    received = 0
    declared: int | None = None

    def gotLength(self, length: int | None) -> None:
        self.declared = length
        self.limit, route, session_key = _gate_limits(
            method=self.channel._command, path=self.channel._path, headers=self.requestHeaders
        )
        if length is not None and length > self.limit:
            self._refuse()
            return
        if route is None:
            super().gotLength(length)
            return
        self.content = StagedBodyFile(staging_folder())
        # Read nothing more until the session is known to be a member's.
        self.channel._networkProducer.pauseProducing()
        checked = deferToThread(member_may_upload, session_key, route)
        checked.addErrback(lambda _failure: False)
        checked.addCallback(self._member_checked)

    def _member_checked(self, allowed: bool) -> None:
        if self.refused or self.channel is None:
            return
        if not allowed:
            self.limit = int(settings.HEARTH_REQUEST_MAX_BYTES)
            if (self.declared or 0) > self.limit or self.received > self.limit:
                self._refuse()
                return
        self.channel._networkProducer.resumeProducing()

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.received += len(data)
        if self.received > self.limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self) -> Any:
        if self.refused:
            return None
        return super().process()

    def _refuse(self) -> None:
        """Answer 413 and close, without reading the body."""
        self.refused = True
        if self.content is not None:
            self.content.close()
        self.content = _Discard()
        body = too_large_message(self.limit).encode()
        head = (
            b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\nCache-Control: no-store\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        self.channel.transport.write(head + body)
        self.channel.loseConnection()


class GatedHTTPFactory(HTTPFactory):  # type: ignore[misc]
    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = GatedRequest
        return protocol


class HearthServer(Server):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["websocket_max_message_size"] = WEBSOCKET_MAX_MESSAGE_BYTES
        kwargs["websocket_max_frame_size"] = WEBSOCKET_MAX_MESSAGE_BYTES
        super().__init__(*args, **kwargs)

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        content = getattr(protocol, "content", None)
        if isinstance(content, StagedBodyFile):
            content.flush()
            extensions = scope.setdefault("extensions", {})
            extensions[STAGED_BODY_EXTENSION] = {"path": str(content.path), "size": content.size}
        return super().create_application(protocol, scope)


class HearthCommandLine(CommandLineInterface):  # type: ignore[misc]
    server_class = HearthServer


def main(argv: list[str]) -> None:
    # This process serves pages: searches that need a model ask the query worker (jobs.remote).
    os.environ[WEB_PROCESS_ENV] = "1"
    # daphne.server.Server.run builds daphne's own HTTPFactory by name: point that name at ours.
    daphne.server.HTTPFactory = GatedHTTPFactory
    HearthCommandLine().run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
