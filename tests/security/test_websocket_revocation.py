"""A sign-in that ends reaches the sockets already open (finding 2).

Disabling a member, changing a password and logging out in another tab close the affected sockets
with 4401 (the page goes to the login page); a socket whose session ended without a word is
refused at its next action.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.support.services import PASSWORD, session_cookie

SIGNED_OUT = {"type": "websocket.close", "code": 4401}


async def _open(cookie: str) -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]
    socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


def _client_with(cookie: str) -> Client:
    client = Client()
    name, _, value = cookie.partition("=")
    client.cookies[name] = value
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_disabling_a_member_closes_their_open_sockets(alice: Any, olivia: Any) -> None:
    socket = await _open(await database_sync_to_async(session_cookie)(alice))

    def disable() -> int:
        client = Client()
        client.force_login(olivia)
        return client.post(f"/household/{alice.pk}/toggle/").status_code

    assert await database_sync_to_async(disable)() == 302
    assert await socket.receive_output(timeout=5) == SIGNED_OUT


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_password_change_closes_the_members_other_sockets(alice: Any, bob: Any) -> None:
    other_device = await _open(await database_sync_to_async(session_cookie)(alice))
    this_tab_cookie = await database_sync_to_async(session_cookie)(alice)
    this_tab = await _open(this_tab_cookie)
    bobs = await _open(await database_sync_to_async(session_cookie)(bob))

    def change() -> str:
        new = "an entirely new passphrase"
        response = _client_with(this_tab_cookie).post(
            "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )
        return str(response.get("Location", response.status_code))

    assert await database_sync_to_async(change)() == "/password/done/"
    assert await other_device.receive_output(timeout=5) == SIGNED_OUT
    # This tab is on its way to the "password changed" page; its old session acts no more.
    assert await this_tab.receive_nothing(timeout=0.5)
    await this_tab.send_json_to({"action": "job.get", "id": 1})
    assert await this_tab.receive_output(timeout=5) == SIGNED_OUT
    assert await bobs.receive_nothing(timeout=0.2)
    await bobs.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_logging_out_in_another_tab_closes_that_sessions_sockets(alice: Any) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    socket = await _open(cookie)
    phone = await _open(await database_sync_to_async(session_cookie)(alice))

    def log_out() -> int:
        return _client_with(cookie).post("/logout/").status_code

    assert await database_sync_to_async(log_out)() == 302
    assert await socket.receive_output(timeout=5) == SIGNED_OUT
    assert await phone.receive_nothing(timeout=0.5)
    await phone.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_action_on_a_socket_whose_session_ended_is_refused(alice: Any) -> None:
    from django.contrib.sessions.models import Session

    socket = await _open(await database_sync_to_async(session_cookie)(alice))
    await database_sync_to_async(lambda: Session.objects.all().delete())()  # ended with no message sent
    await socket.send_json_to({"action": "job.get", "id": 1})
    assert await socket.receive_output(timeout=5) == SIGNED_OUT


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_action_after_the_password_changed_elsewhere_is_refused(alice: Any) -> None:
    socket = await _open(await database_sync_to_async(session_cookie)(alice))

    def change_in_admin() -> None:
        alice.set_password("changed by the owner in the admin")
        alice.save()

    await database_sync_to_async(change_in_admin)()
    await socket.send_json_to({"action": "job.get", "id": 1})
    assert await socket.receive_output(timeout=5) == SIGNED_OUT
