"""Bad frames on the socket get an error event and the socket stays open (finding 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.support.browser import web_server_fixture  # noqa: F401
from tests.support.services import session_cookie

TOO_LONG = "x" * (1100 * 1024)


async def _open(user: Any) -> WebsocketCommunicator:
    from config.asgi import application

    cookie = await database_sync_to_async(session_cookie)(user)
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]
    socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def _still_answers(socket: WebsocketCommunicator) -> None:
    await socket.send_json_to({"action": "job.get", "id": 1})
    reply = await socket.receive_json_from(timeout=5)
    assert reply == {"type": "error", "error": "No such job.", "id": 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("frame", ["{not json", "[1, 2", '"\\ud800"', "\u00ff" * 10])
async def test_invalid_json_gets_an_error_and_the_socket_stays_open(alice: Any, frame: str) -> None:
    socket = await _open(alice)
    await socket.send_to(text_data=frame)
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    await _still_answers(socket)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    "request_body",
    [
        {"action": "chat.send", "conversation": "CONVERSATION", "text": "hi", "images": [10**30]},
        {"action": "message.get", "id": 10**30},
        {"action": "job.get", "id": -(10**30)},
        {"action": "chat.stop", "message": 2**63},
    ],
)
async def test_out_of_range_ids_get_an_error_and_the_socket_stays_open(
    alice: Any, request_body: dict[str, Any]
) -> None:
    from assistant.chat.services import conversation_create

    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    if request_body.get("conversation") == "CONVERSATION":
        request_body = {**request_body, "conversation": conversation.pk}
    socket = await _open(alice)
    await socket.send_json_to(request_body)
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    await _still_answers(socket)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_message_too_long_is_answered_not_dropped(alice: Any) -> None:
    socket = await _open(alice)
    await socket.send_to(text_data=json.dumps({"action": "chat.send", "conversation": 1, "text": TOO_LONG}))
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    assert "too long" in reply["error"]
    await _still_answers(socket)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_a_message_too_long_and_keeps_the_socket(web_server: str, alice: Any) -> None:
    from websockets.sync.client import connect

    url = web_server.replace("http://", "ws://") + "/ws/events/"
    with connect(url, origin=web_server, additional_headers={"Cookie": session_cookie(alice)}) as socket:  # type: ignore[arg-type]
        socket.send(json.dumps({"action": "chat.send", "conversation": 1, "text": TOO_LONG}))
        reply = json.loads(socket.recv(timeout=10))
        assert reply["type"] == "error"
        assert "too long" in reply["error"]
        socket.send(json.dumps({"action": "job.get", "id": 1}))
        assert json.loads(socket.recv(timeout=10))["error"] == "No such job."
