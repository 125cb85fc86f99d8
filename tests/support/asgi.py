"""Raw ASGI and raw HTTP helpers for the security tests: what a hostile client sends, byte by byte."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.middleware.csrf import _get_new_csrf_string

# A CSRF secret the tests send as both cookie and header, as the pages do.
CSRF_TOKEN = _get_new_csrf_string()


@dataclass
class AsgiReply:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # How many times the application asked for the request body.
    reads: int = 0


async def asgi_http(
    *,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    chunks: Sequence[bytes] = (),
) -> AsgiReply:
    """Call the real ASGI application once, feeding `chunks` as the body, and record what it did."""
    from config.asgi import application

    reply = AsgiReply()
    pending = list(chunks) or [b""]

    async def receive() -> dict[str, Any]:
        reply.reads += 1
        if not pending:
            await asyncio.Event().wait()  # the client stays until the answer comes (the caller is cancelled)
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in [("host", "localhost"), *headers]],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await application(scope, receive, send)
    return reply


def raw_request_head(
    base_url: str, *, method: str, path: str, headers: Sequence[tuple[str, str]], timeout: float = 5.0
) -> bytes:
    """Send only a request's headers to a real server and return what it answers before any body."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers), "", ""]
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall("\r\n".join(lines).encode("latin1"))
        sock.settimeout(timeout)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
    return received
