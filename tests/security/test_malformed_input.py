"""Malformed ids and names get a clear 400 or 404, never a 500 (finding 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.support.asgi import CSRF_TOKEN, asgi_http
from tests.support.documents import pdf_bytes, upload
from tests.support.services import session_cookie


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def alices_document(alice: Any) -> Any:
    from assistant.documents.services import document_upload

    return document_upload(owner=alice, upload=upload("Manual.pdf", pdf_bytes([["Hello there"]])))


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "¹²", "٣", "1e3", "-1", "99999999999999999999", "1 ", ""])
@pytest.mark.parametrize("parameter", ["page", "part"])
def test_a_malformed_page_number_shows_the_document(
    alice: Any, alices_document: Any, parameter: str, value: str
) -> None:
    response = _client(alice).get(f"/documents/{alices_document.pk}/", {parameter: value})
    assert response.status_code in (200, 400), response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [{"model": "abc"}, {"persona": "abc"}, {"model": "²"}, {"persona": "99999999999999999999999"}, {"documents": "²"}],
)
def test_malformed_conversation_settings_are_refused(alice: Any, data: dict[str, str]) -> None:
    from assistant.chat.services import conversation_create

    conversation = conversation_create(owner=alice)
    response = _client(alice).post(
        f"/chat/{conversation.pk}/settings/", {"documents_scope": "none", **data}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code in (302, 400, 404), response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("projector", ["²", "abc", "99999999999999999999999"])
def test_a_malformed_projector_is_refused(olivia: Any, projector: str) -> None:
    from assistant.models import LocalModel

    model = LocalModel.objects.create(path="/nowhere/a.gguf", name="A")
    response = _client(olivia).post(f"/models/{model.pk}/pair/", {"projector": projector})
    assert response.status_code in (302, 400, 404), response.status_code


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/documents/upload/", "/chat/images/"])
async def test_a_huge_upload_name_gets_a_json_error_for_a_json_client(alice: Any, path: str) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    reply = await asgi_http(
        method="POST",
        path=path,
        headers=[
            ("content-type", "application/octet-stream"),
            ("content-length", "5"),
            ("x-upload-name", "n" * 10_000 + ".txt"),
            ("accept", "application/json"),
            ("x-csrftoken", CSRF_TOKEN),
            ("cookie", f"csrftoken={CSRF_TOKEN}; {cookie}"),
        ],
        chunks=[b"hello"],
    )
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert "name is too long" in json.loads(reply.body)["error"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_form_django_cannot_read_gets_a_json_error_for_a_json_client(alice: Any) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{"n" * 10_000}.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    reply = await asgi_http(
        method="POST",
        path="/documents/upload/",
        headers=[
            ("content-type", f"multipart/form-data; boundary={boundary}"),
            ("content-length", str(len(body))),
            ("accept", "application/json"),
            ("x-csrftoken", CSRF_TOKEN),
            ("cookie", f"csrftoken={CSRF_TOKEN}; {cookie}"),
        ],
        chunks=[body],
    )
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body)["error"]
