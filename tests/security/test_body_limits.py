"""Bodies over a route's limit are refused at the headers, before a byte of them is read (finding 4).

Ordinary routes take HEARTH_REQUEST_MAX_KB; upload routes take their own, larger limit, and only
from a signed-in member. Checked on the real ASGI application and on the real daphne.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from tests.environment import TEST_DATA_DIR
from tests.support.asgi import CSRF_TOKEN, asgi_http, raw_request_head
from tests.support.browser import web_server_fixture  # noqa: F401
from tests.support.services import session_cookie

HUGE = 250 * 1024 * 1024
FORM = ("content-type", "application/x-www-form-urlencoded")
RAW = ("content-type", "application/octet-stream")


def _cookies(session: str = "") -> tuple[str, str]:
    return ("cookie", f"csrftoken={CSRF_TOKEN}" + (f"; {session}" if session else ""))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_anonymous_oversized_login_post_is_refused_before_reading(olivia: Any) -> None:
    reply = await asgi_http(method="POST", path="/login/", headers=[FORM, ("content-length", str(HUGE))])
    assert reply.status == 413
    assert reply.reads == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_members_oversized_form_post_is_refused_before_reading(alice: Any) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    reply = await asgi_http(
        method="POST",
        path="/chat/personas/",
        headers=[FORM, ("content-length", str(settings.HEARTH_REQUEST_MAX_BYTES + 1)), _cookies(cookie)],
    )
    assert reply.status == 413
    assert reply.reads == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_anonymous_upload_is_refused_before_reading(olivia: Any) -> None:
    reply = await asgi_http(
        method="POST",
        path="/documents/upload/",
        headers=[RAW, ("content-length", str(5 * 1024 * 1024)), ("x-upload-name", "a.txt"), _cookies()],
    )
    assert reply.status == 413
    assert reply.reads == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_upload_over_the_routes_limit_is_refused_before_reading(alice: Any) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    reply = await asgi_http(
        method="POST",
        path="/documents/upload/",
        headers=[
            RAW,
            ("content-length", str(settings.HEARTH_DOCUMENT_MAX_BYTES + 1)),
            ("x-upload-name", "a.txt"),
            ("accept", "application/json"),
            _cookies(cookie),
        ],
    )
    assert reply.status == 413
    assert reply.reads == 0
    assert b"error" in reply.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_members_model_upload_is_refused_before_reading(alice: Any) -> None:
    """Models are the owner's: a member's body gets only the ordinary limit."""
    cookie = await database_sync_to_async(session_cookie)(alice)
    reply = await asgi_http(
        method="POST",
        path="/models/upload/",
        headers=[RAW, ("content-length", str(HUGE)), ("x-upload-name", "m.gguf"), _cookies(cookie)],
    )
    assert reply.status == 413
    assert reply.reads == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_body_without_a_length_is_cut_off_at_the_limit(olivia: Any) -> None:
    piece = b"x" * (256 * 1024)
    count = settings.HEARTH_REQUEST_MAX_BYTES // len(piece) + 2
    reply = await asgi_http(method="POST", path="/login/", headers=[FORM], chunks=[piece] * count)
    assert reply.status == 413
    assert reply.reads < count


# --- the real web server ---------------------------------------------------------------------------------


def _spooled_bytes() -> int:
    return sum(p.stat().st_size for p in (TEST_DATA_DIR / "tmp").rglob("*") if p.is_file())


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_to_an_anonymous_huge_post_before_the_body_is_sent(web_server: str, olivia: Any) -> None:
    answer = raw_request_head(web_server, method="POST", path="/login/", headers=[FORM, ("Content-Length", str(HUGE))])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_to_an_anonymous_upload_before_the_body_is_sent(web_server: str, olivia: Any) -> None:
    # The data folder's tmp/ is every temporary file's home (other tests leave theirs): count what this adds.
    spooled_before = _spooled_bytes()
    answer = raw_request_head(
        web_server,
        method="POST",
        path="/documents/upload/",
        headers=[RAW, ("Content-Length", str(HUGE)), ("X-Upload-Name", "big.txt")],
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _spooled_bytes() - spooled_before < 1024 * 1024


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_to_a_members_oversized_upload_before_the_body_is_sent(
    web_server: str, alice: Any
) -> None:
    answer = raw_request_head(
        web_server,
        method="POST",
        path="/documents/upload/",
        headers=[
            RAW,
            ("Content-Length", str(settings.HEARTH_DOCUMENT_MAX_BYTES + 1)),
            ("X-Upload-Name", "big.txt"),
            ("Cookie", f"csrftoken={CSRF_TOKEN}; {session_cookie(alice)}"),
        ],
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_to_an_upload_with_a_forged_session_before_the_body_is_sent(
    web_server: str, alice: Any
) -> None:
    spooled_before = _spooled_bytes()
    answer = raw_request_head(
        web_server,
        method="POST",
        path="/documents/upload/",
        headers=[
            RAW,
            ("Content-Length", str(150 * 1024 * 1024)),
            ("X-Upload-Name", "big.txt"),
            ("Cookie", f"csrftoken={CSRF_TOKEN}; {settings.SESSION_COOKIE_NAME}=forgedforgedforgedforgedforged12"),
        ],
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _spooled_bytes() - spooled_before < 1024 * 1024
