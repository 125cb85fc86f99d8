"""Versions in a real browser, at laptop and phone size: Regenerate keeps the old answer behind the arrows,
Edit sends a changed message as a new branch and keeps the old one; the choice survives a reload.

Real parts: daphne, the llm worker writing with a tiny model, chromium. The first answer is written by
the test, so its text is known; the tiny model's answers are nonsense and only their ids are compared.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assistant.chat.services import conversation_create
from assistant.chat.versions import conversation_thread
from assistant.models import Conversation, Message
from tests.environment import TEST_DATA_DIR
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import (
    SIZES,
    assert_no_page_scroll,
    assert_no_sideways_scroll,
    assert_seen,
    open_at_fixture,  # noqa: F401
    screenshot,
)
from tests.support.services import WorkerProcess, chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUESTION = "What colour is the sky?"
FIRST_ANSWER = "Blue, on a clear day."
EDITED = "What colour is grass?"


def _conversation(owner: Any) -> tuple[Conversation, Message, Message]:
    conversation = conversation_create(owner=owner)
    conversation.title = "Colours"
    conversation.save(update_fields=["title"])
    question = Message.objects.create(conversation=conversation, role="user", content=QUESTION)
    answer = Message.objects.create(conversation=conversation, role="assistant", content=FIRST_ANSWER)
    return conversation, question, answer


def _shown_ids(conversation: Conversation) -> list[int]:
    return [message.pk for message in conversation_thread(conversation=conversation)]


def _label(page: Any, message_id: int) -> str:
    return (page.text_content(f"#m{message_id} [data-field='version-label']") or "").strip()


def _wait_label(page: Any, message_id: int, label: str) -> None:
    page.wait_for_function(
        "([id, label]) => document.querySelector(`#m${id} [data-field='version-label']`)?.textContent === label",
        arg=[message_id, label],
    )


def _screenshot_at(page: Any, selector: str, name: str) -> None:
    """What the window shows with `selector` scrolled into view (the arrows sit below a long answer)."""
    page.locator(selector).first.scroll_into_view_if_needed()
    folder = Path(os.environ.get("HEARTH_SCREENSHOTS") or TEST_DATA_DIR / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _newest(conversation: Conversation, role: str) -> Message:
    return Message.objects.filter(conversation=conversation, role=role).order_by("-pk").first()


def _regenerate_and_go_back(page: Any, conversation: Conversation, first: Message, size: str) -> Message:
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    assert_seen(page, f"#m{first.pk} [data-act='regenerate']", fits=True)
    page.click(f"#m{first.pk} [data-act='regenerate']")
    page.wait_for_selector(f"#m{first.pk}", state="detached")
    second = _newest(conversation, "assistant")
    assert second.pk != first.pk
    page.wait_for_selector(f"#m{second.pk}[data-state='complete']", timeout=60_000)
    _wait_label(page, second.pk, "2/2")
    for control in ("version-prev", "version-next"):
        assert_seen(page, f"#m{second.pk} [data-act='{control}']")
    assert page.get_attribute(f"#m{second.pk} [data-act='version-prev']", "aria-label") == "Previous version"
    assert page.is_disabled(f"#m{second.pk} [data-act='version-next']")
    assert_no_sideways_scroll(page)
    assert_no_page_scroll(page)
    screenshot(page, f"chat-versions-regenerated-{size}")
    _screenshot_at(page, f"#m{second.pk} [data-field='versions']", f"chat-versions-regenerated-arrows-{size}")

    # By keyboard: focus the arrow, press Enter; the first text is back and the focus stays on the arrows.
    page.focus(f"#m{second.pk} [data-act='version-prev']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#m{first.pk}")
    _wait_label(page, first.pk, "1/2")
    assert page.text_content(f"#m{first.pk} .msg__body").strip() == FIRST_ANSWER
    assert page.locator(f"#m{second.pk}").count() == 0
    assert page.evaluate("document.activeElement.dataset.act") == "version-next"
    assert _shown_ids(conversation)[-1] == first.pk

    page.reload()  # the choice is kept
    page.wait_for_selector(f"#m{first.pk}")
    assert _label(page, first.pk) == "1/2"
    assert page.locator(f"#m{second.pk}").count() == 0
    return second


def _edit_and_go_back(page: Any, conversation: Conversation, question: Message, first: Message, size: str) -> None:
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    page.hover(f"#m{question.pk} .msg__body")  # a laptop shows a message's own actions on hover; a phone always
    assert_seen(page, f"#m{question.pk} [data-act='edit']", fits=True)

    # Escape leaves the message as it was.
    page.click(f"#m{question.pk} [data-act='edit']")
    page.press(f"#m{question.pk} [data-edit-text]", "Escape")
    assert page.locator("[data-edit-form]").count() == 0
    assert page.evaluate("document.activeElement.dataset.act") == "edit"

    page.click(f"#m{question.pk} [data-act='edit']")
    box = f"#m{question.pk} [data-edit-text]"
    assert page.input_value(box) == QUESTION
    for control in (box, f"#m{question.pk} [data-edit-cancel]", f"#m{question.pk} [data-edit-save]"):
        assert_seen(page, control)
    assert_no_sideways_scroll(page)
    screenshot(page, f"chat-versions-editing-{size}")
    page.fill(box, EDITED)
    page.press(box, "Enter")
    page.wait_for_selector(f"#m{question.pk}", state="detached")
    edited = _newest(conversation, "user")
    assert edited.content == EDITED
    answer = _newest(conversation, "assistant")
    page.wait_for_selector(f"#m{answer.pk}[data-state='complete']", timeout=60_000)
    _wait_label(page, edited.pk, "2/2")
    assert page.text_content(f"#m{edited.pk} .msg__body") == EDITED
    assert_seen(page, f"#m{edited.pk} [data-act='version-prev']")
    assert page.locator(f"#m{first.pk}").count() == 0
    assert_no_sideways_scroll(page)
    screenshot(page, f"chat-versions-edited-{size}")

    # The old branch is one arrow away, with the answer version chosen on it before.
    page.click(f"#m{edited.pk} [data-act='version-prev']")
    page.wait_for_selector(f"#m{question.pk}")
    _wait_label(page, question.pk, "1/2")
    assert page.text_content(f"#m{question.pk} .msg__body") == QUESTION
    page.wait_for_selector(f"#m{first.pk}")
    assert page.text_content(f"#m{first.pk} .msg__body").strip() == FIRST_ANSWER
    assert _shown_ids(conversation) == [question.pk, first.pk]


@pytest.mark.parametrize("size", SIZES)
def test_regenerate_and_edit_keep_every_version(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    conversation, question, first = _conversation(alice)
    page = open_at(alice, f"/chat/{conversation.pk}/", size)
    page.wait_for_selector(f"#m{first.pk}")
    assert page.locator("[data-field='versions']:not([hidden])").count() == 0  # one version: no arrows

    _regenerate_and_go_back(page, conversation, first, size)
    _edit_and_go_back(page, conversation, question, first, size)
    assert page.problems == []
