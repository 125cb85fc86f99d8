"""Everything sits behind the login; the first visit sets up the owner; logins are rate-limited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.support.services import PASSWORD, session_cookie, ws_open

PROTECTED_PATHS = [
    "/",
    "/chat/",
    "/documents/",
    "/photos/",
    "/voice/",
    "/models/",
    "/models/browse/",
    "/jobs/",
    "/settings/",
    "/household/",
    "/password/",
    "/api/jobs/",
    "/api/jobs/1/",
    "/chat/1/",
    "/chat/search/?q=secret",
    "/chat/personas/",
    "/chat/images/1/",
    "/api/messages/1/",
]


def _logs_in(username: str, password: str) -> bool:
    """Log in through the login page, as a person would, in a fresh browser session."""
    response = Client().post("/login/", {"username": username, "password": password})
    return response.status_code == 302


@pytest.mark.django_db
def test_the_first_visit_leads_to_setup_which_creates_the_owner(client: Client) -> None:
    assert client.get("/jobs/")["Location"] == "/setup/"
    response = client.post("/setup/", {"username": "olivia", "password1": PASSWORD, "password2": PASSWORD})
    assert response["Location"] == "/household/"
    owner = get_user_model().objects.get()
    assert owner.is_superuser
    assert client.get("/household/").status_code == 200


@pytest.mark.django_db
def test_setup_cannot_be_used_again_once_the_owner_exists(client: Client, olivia: Any) -> None:
    response = client.post("/setup/", {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD})
    assert response["Location"] == "/login/"
    assert not get_user_model().objects.filter(username="mallory").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_unauthenticated_http_is_sent_to_the_login_page(client: Client, olivia: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_the_admin_asks_for_its_own_login(client: Client, olivia: Any) -> None:
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/jobs/1/cancel/",
        "/jobs/1/retry/",
        "/settings/selfcheck/",
        "/chat/new/",
        "/chat/images/",
        "/chat/1/rename/",
        "/chat/1/delete/",
        "/chat/1/settings/",
        "/household/",
    ],
)
def test_unauthenticated_posts_are_sent_to_the_login_page(client: Client, olivia: Any, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_unauthenticated_websockets_are_refused() -> None:
    socket = await ws_open(cookie=None)
    await socket.connect()
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websockets_from_another_origin_are_refused(alice: Any) -> None:
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    cookie = await database_sync_to_async(session_cookie)(alice)
    socket = WebsocketCommunicator(
        application, "/ws/events/", headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie.encode())]
    )
    connected, _ = await socket.connect()
    assert not connected


@pytest.mark.django_db
def test_a_member_logs_in_changes_password_and_logs_out(client: Client, alice: Any) -> None:
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/jobs/").status_code == 200
    new_password = "a different long passphrase"
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password}
    )
    assert response["Location"] == "/password/done/"
    client.post("/logout/")
    assert client.get("/jobs/").status_code == 302
    assert _logs_in("alice", new_password)


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account_out_even_with_the_right_one(client: Client, alice: Any) -> None:
    def attempt(password: str) -> int:
        return client.post("/login/", {"username": "alice", "password": password}, REMOTE_ADDR="10.0.0.7").status_code

    assert [attempt("wrong") for _ in range(5)] == [200, 200, 200, 200, 429]
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    assert b"Too many" in response.content or b"too many" in response.content
    assert client.get("/jobs/").status_code == 302


@pytest.mark.django_db
def test_only_the_owner_manages_the_household(client: Client, alice: Any, olivia: Any) -> None:
    client.force_login(alice)
    assert client.get("/household/").status_code == 403
    assert client.post(f"/household/{olivia.pk}/toggle/").status_code == 403
    olivia.refresh_from_db()
    assert olivia.is_active


@pytest.mark.django_db
def test_the_owner_adds_and_disables_a_member_who_then_cannot_log_in(client: Client, olivia: Any) -> None:
    client.force_login(olivia)
    client.post("/household/", {"username": "sam", "password1": PASSWORD, "password2": PASSWORD})
    sam = get_user_model().objects.get(username="sam")
    assert not sam.is_superuser
    assert _logs_in("sam", PASSWORD)

    client.post(f"/household/{sam.pk}/toggle/")
    sam.refresh_from_db()
    assert not sam.is_active
    assert not _logs_in("sam", PASSWORD)


@pytest.mark.django_db
def test_the_owner_cannot_disable_themselves(client: Client, olivia: Any) -> None:
    client.force_login(olivia)
    response = client.post(f"/household/{olivia.pk}/toggle/", follow=True)
    olivia.refresh_from_db()
    assert olivia.is_active
    assert b"cannot be disabled" in response.content


# Reached before anyone signs in, on purpose: signing in and the first-run setup, and the offline app
# shell (the service worker and its page). The admin has its own sign-in (checked above).
PUBLIC_ROUTES = {"login/", "setup/", "logout/", "sw.js", "offline/"}


def _every_route() -> list[str]:
    """Every address Hearth answers, as a path: ids are 1, other parts a plain word."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], prefix: str) -> list[str]:
        found: list[str] = []
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                found += walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(route)
        return found

    paths = []
    for route in walk(get_resolver().url_patterns, ""):
        if route.startswith("admin/") or route in PUBLIC_ROUTES:
            continue
        path = re.sub(r"<int:\w+>", "1", route)
        paths.append("/" + re.sub(r"<\w+:\w+>|<\w+>", "thumb", path))
    return paths


@pytest.mark.django_db
def test_every_other_address_asks_a_stranger_to_sign_in(client: Client, olivia: Any) -> None:
    """A route added later is covered too: nothing but PUBLIC_ROUTES answers a visitor who has not signed in."""
    paths = _every_route()
    assert len(paths) > 60
    for path in paths:
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code in (302, 401, 403, 405), (method.__name__, path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (path, response["Location"])
