"""The request gate: ASGI middleware in front of Django that refuses oversized bodies at the headers.

Django's ASGIHandler reads the whole body into a temporary file before any middleware or view runs,
so a limit checked in a view comes too late. This gate looks at Content-Length first and answers
413 without reading a byte when the body is over the route's limit: HEARTH_REQUEST_MAX_KB for
everything, except upload routes (assistant.core.uploads), whose larger limits apply only to raw
bodies from a signed-in member (the owner, for owner-only routes). A body sent without a length is
counted as it arrives and cut off at the same limit.

An upload route's raw body is staged as a file for the view (assistant.core.uploads.upload_file),
never handed to Django's parser: from the web server when it already wrote it to disk
(assistant.core.web), else written here, a megabyte at a time, off the event loop.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from assistant.core.uploads import (
    NAME_HEADER,
    SCOPE_KEY,
    STAGED_BODY_EXTENSION,
    StagedBody,
    UploadRefused,
    UploadRoute,
    is_raw_body,
    staging_folder,
    upload_name_clean,
    upload_route_for,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

WRITE_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    pass


def request_body_limit() -> int:
    return int(settings.HEARTH_REQUEST_MAX_BYTES)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}


def _content_length(headers: dict[str, str]) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    if not raw.isascii() or not raw.strip().isdigit():
        raise ValueError(raw)
    return int(raw.strip())


def _session_key(headers: dict[str, str]) -> str:
    from django.http import parse_cookie

    return parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME, "")


def member_may_upload(session_key: str, route: UploadRoute) -> bool:
    """Whether this session is a member's who may send `route` large bodies.

    Runs in a thread of the gate's own, before any view: it closes the connections it opened."""
    from django.db import connections

    from assistant.accounts.sessions import session_member_get

    try:
        member = session_member_get(session_key=session_key) if session_key else None
        return member is not None and (member.is_superuser or not route.owner_only)
    finally:
        connections.close_all()


async def _answer(send: Send, *, status: int, error: str, headers: dict[str, str]) -> None:
    wants_json = headers.get("accept", "").startswith("application/json")
    body = json.dumps({"error": error}).encode() if wants_json else error.encode()
    kind = b"application/json" if wants_json else b"text/plain; charset=utf-8"
    response_headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})


def too_large_message(limit: int) -> str:
    return f"The request is larger than the {limit / 1024**2:,.1f} MB this address accepts."


class RequestGate:
    """ASGI middleware for HTTP: body limits at the headers, and raw uploads staged to disk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        try:
            length = _content_length(headers)
        except ValueError:
            await _answer(send, status=400, error="The Content-Length header is not a number.", headers=headers)
            return
        route = upload_route_for(scope["path"])
        upload = (
            route is not None
            and scope["method"] in ("POST", "PUT")
            and is_raw_body(content_type=headers.get("content-type", ""))
            and await sync_to_async(member_may_upload, thread_sensitive=False)(_session_key(headers), route)
        )
        limit = route.limit() if upload and route is not None else request_body_limit()
        if length is not None and length > limit:
            await _answer(send, status=413, error=too_large_message(limit), headers=headers)
            return
        if upload:
            await self._upload(scope, receive, send, headers=headers, limit=limit)
        else:
            await self._limited(scope, receive, send, headers=headers, limit=limit)

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, *, headers: dict[str, str], limit: int
    ) -> None:
        """Pass the request on, cutting a body without Content-Length off at `limit`."""
        state = {"received": 0, "too_large": False, "started": False}

        async def counted_receive() -> Message:
            message = await receive()
            state["received"] += len(message.get("body", b""))
            if state["received"] > limit:
                state["too_large"] = True
                return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def watched_send(message: Message) -> None:
            state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if state["too_large"] and not state["started"]:
            await _answer(send, status=413, error=too_large_message(limit), headers=headers)

    async def _upload(self, scope: Scope, receive: Receive, send: Send, *, headers: dict[str, str], limit: int) -> None:
        try:
            name = upload_name_clean(headers.get(NAME_HEADER, ""))
        except UploadRefused as exc:
            await _answer(send, status=exc.status, error=str(exc), headers={**headers, "accept": "application/json"})
            return
        handed = scope.get("extensions", {}).get(STAGED_BODY_EXTENSION)
        try:
            if handed:
                await receive()  # the server's one empty body message
                staged: StagedBody | None = StagedBody(path=Path(handed["path"]), size=int(handed["size"]), name=name)
            else:
                staged = await _stage(receive, limit=limit, name=name)
        except BodyTooLarge:
            await _answer(send, status=413, error=too_large_message(limit), headers=headers)
            return
        if staged is None:
            return  # the client went away
        body_sent = False

        async def empty_receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        try:
            await self.app({**scope, SCOPE_KEY: staged}, empty_receive, send)
        finally:
            staged.path.unlink(missing_ok=True)  # a service that kept the file moved it first


async def _stage(receive: Receive, *, limit: int, name: str) -> StagedBody | None:
    """Write a streamed body to the staging folder; None when the client disconnects."""
    fd, raw_path = tempfile.mkstemp(dir=staging_folder(), prefix="upload-")
    path = Path(raw_path)
    write = sync_to_async(os.write, thread_sensitive=False)
    size = 0
    pending = bytearray()
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                path.unlink(missing_ok=True)
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            pending += chunk
            more = bool(message.get("more_body", False))
            if len(pending) >= WRITE_BYTES or not more:
                await _write_all(write, fd, bytes(pending))
                pending.clear()
            if not more:
                return StagedBody(path=path, size=size, name=name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


async def _write_all(write: Callable[[int, Any], Awaitable[int]], fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = await write(fd, view)
        view = view[written:]
