"""What a newcomer meets in Chat (issue 12), in Chromium at 1366x850 and 390x844: signing in lands on
Chat, "New chat" never piles up empty chats and the list tells the truth, and an answer written
without documents says so in one quiet line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assistant.models import Conversation, Message
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.services import PASSWORD, chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_list(page: Any, size: str) -> None:
    """The list of chats is a drawer on a phone."""
    if size == "phone":
        page.click("[data-list-toggle]")


@pytest.mark.parametrize("size", SIZES)
def test_signing_in_lands_on_chat(alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str) -> None:
    chat_model_add(tiny_models["llama3"])
    page = open_at(None, "/login/", size)
    page.fill("input[name='username']", "alice")
    page.fill("input[name='password']", PASSWORD)
    page.click("main button[type='submit']")

    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    assert_seen(page, "[data-composer-text]")
    assert_seen(page, "[data-chat-title]", scroll=False)
    assert Conversation.objects.filter(owner=alice).count() == 1
    screenshot(page, f"signed-in-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_new_chat_reuses_an_empty_one_and_the_list_tells_the_truth(
    alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    page = open_at(alice, "/chat/", size)
    _open_list(page, size)
    assert_seen(page, "[data-chat-list-empty]")  # a first visit: nothing to list yet, and it says so
    assert page.locator(".convo").count() == 0

    talked = Conversation.objects.create(owner=alice, title="Boiler questions")
    Message.objects.create(conversation=talked, role="user", content="What pressure?")
    for _ in range(3):
        page.goto("/chat/")
        _open_list(page, size)
        page.click("[data-new-chat]")
        page.wait_for_url(re.compile(r"/chat/\d+/$"))

    assert Conversation.objects.filter(owner=alice).count() == 2  # the one with messages, and one empty
    _open_list(page, size)
    assert page.locator(".convo").count() == 1
    assert_seen(page, ".convo__link")
    assert page.inner_text(".convo__link") == "Boiler questions"
    assert page.locator("[data-chat-list-empty]").is_hidden()
    assert_no_sideways_scroll(page)
    screenshot(page, f"new-chat-list-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_an_answer_written_without_documents_says_so_quietly(
    alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    conversation = Conversation.objects.create(owner=alice, title="Moon")
    Message.objects.create(conversation=conversation, role="user", content="Who first walked on the moon?")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="Neil Armstrong, in July 1969.",
        notice="No document was used: nothing in your one document matched the question.",
        context_size=4096,
    )
    page = open_at(alice, f"/chat/{conversation.pk}/", size)

    assert_seen(page, ".msg--assistant .msg__notice")
    assert "No document was used" in page.inner_text(".msg--assistant .msg__notice")
    assert "Neil Armstrong" in page.inner_text(".msg--assistant .msg__body")
    page.click(".chat-docs__toggle")
    assert_seen(page, "label.chat-docs__mode:has-text('Only from my documents')")
    screenshot(page, f"no-document-used-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_a_photo_for_a_text_only_model_is_warned_about_when_attached(
    alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str, tmp_path: Path
) -> None:
    from PIL import Image

    chat_model_add(tiny_models["llama3"])  # no projector: it cannot see photos
    photo = tmp_path / "cat.png"
    Image.new("RGB", (48, 32), (200, 30, 30)).save(photo, "PNG")
    conversation = Conversation.objects.create(owner=alice)
    page = open_at(alice, f"/chat/{conversation.pk}/", size)

    page.set_input_files("[data-file-input]", str(photo))

    assert_seen(page, "[data-composer-error]")
    warning = page.inner_text("[data-composer-error]")
    assert "Tiny llama3 cannot see photos, and no vision model is installed." in warning
    assert not Message.objects.filter(conversation=conversation).exists()  # said before anything was sent
    screenshot(page, f"photo-warning-{size}")
    assert page.problems == []
