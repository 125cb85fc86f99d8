"""Websockets open only from Hearth's own origin: scheme, host and port (finding 1)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.support.services import session_cookie


async def _connect(user: Any, *, origin: str, host: str) -> tuple[bool, Any]:
    from config.asgi import application

    cookie = await database_sync_to_async(session_cookie)(user)
    headers = [(b"origin", origin.encode()), (b"host", host.encode()), (b"cookie", cookie.encode())]
    socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return connected, socket


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1:8399", "127.0.0.1:8000"),  # another port of the same machine
        ("http://localhost:3000", "localhost:8000"),
        ("http://localhost", "localhost:8000"),
        ("https://localhost:8000", "localhost:8000"),  # same host and port, other scheme
        ("http://evil.example:8000", "localhost:8000"),
        ("null", "localhost:8000"),
        ("http://localhost:8000", "evil.example:8000"),  # a host Hearth does not serve
    ],
)
async def test_a_socket_from_another_origin_is_refused(alice: Any, origin: str, host: str) -> None:
    connected, _ = await _connect(alice, origin=origin, host=host)
    assert not connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:8000", "localhost:8000"),
        ("http://127.0.0.1", "127.0.0.1"),
        ("http://LOCALHOST:80", "localhost"),
    ],
)
async def test_a_socket_from_hearths_own_origin_is_accepted(alice: Any, origin: str, host: str) -> None:
    connected, _ = await _connect(alice, origin=origin, host=host)
    assert connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_trusted_proxy_origin_is_accepted(alice: Any, settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://hearth.example.org"]
    connected, _ = await _connect(alice, origin="https://hearth.example.org", host="localhost:8000")
    assert connected
