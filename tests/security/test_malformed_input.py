"""Malformed ids and names get a clear 400 or 404, never a 500 (finding 6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.documents import pdf_bytes, upload


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


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/documents/upload/", "/chat/images/"])
def test_a_huge_upload_name_gets_a_json_error_for_a_json_client(alice: Any, path: str) -> None:
    response = _client(alice).post(
        path,
        {"file": upload("n" * 10_000 + ".txt", b"hello"), "image": upload("n" * 10_000 + ".png", b"hello")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "name" in response.json()["error"]
