"""Sampling settings in Chromium at 1366x850 and 390x844 (issue 12, item 5): the chat's Sampling panel, an answer
that stops at its token limit and grows with Continue, and the household defaults on a model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.chat.services import conversation_create, utf16_length
from assistant.models import Conversation, LocalModel, Message
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.services import WorkerProcess, chat_model_add, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = ".msg--assistant"
PANEL = "[data-sampling-panel]"
TOGGLE = ".chat-sampling__toggle"
MAX_TOKENS = "#chat-sampling-max_tokens"
TEMPERATURE = "#chat-sampling-temperature"


def _answer(page: Any) -> tuple[str, int]:
    element = page.locator(ANSWER).last
    return element.get_attribute("data-state") or "", int(element.get_attribute("data-length") or 0)


def _set_max_tokens_with_the_keyboard(page: Any, size: str, conversation: Conversation) -> None:
    page.focus(TOGGLE)
    page.keyboard.press("Enter")
    assert_seen(page, f"{PANEL} .chat-settings__panel")
    assert page.input_value(MAX_TOKENS) == "512"  # the tiny model's context is shorter than Hearth's 1024
    assert page.input_value(TEMPERATURE) == "0.2"
    # Out of range: the server says so beside the field, and nothing is saved.
    page.fill(TEMPERATURE, "5")
    page.press(TEMPERATURE, "Enter")
    error = "[data-sampling-field='temperature'] [data-sampling-error]"
    page.wait_for_selector(f"{error}:not([hidden])")
    assert page.inner_text(error) == "Temperature must be from 0 to 2; you entered 5."
    assert page.get_attribute(TEMPERATURE, "aria-invalid") == "true"
    assert_seen(page, error)
    assert_no_sideways_scroll(page)
    screenshot(page, f"sampling-panel-error-{size}")
    assert Conversation.objects.get(pk=conversation.pk).temperature is None

    page.fill(TEMPERATURE, "0.2")
    page.fill(MAX_TOKENS, "16")
    page.press(MAX_TOKENS, "Enter")
    page.wait_for_function(f"() => !document.querySelector('{PANEL}').open")
    saved = Conversation.objects.get(pk=conversation.pk)
    assert (saved.max_tokens, saved.temperature) == (16, None)  # 0.2 is the model's default: not an override
    assert page.is_visible("[data-sampling-dot]")


@pytest.mark.worker
@pytest.mark.parametrize("size", SIZES)
def test_max_tokens_from_the_panel_stops_the_answer_and_continue_makes_it_grow(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["chatml"])
    conversation = conversation_create(owner=alice)
    page = open_at(alice, f"/chat/{conversation.pk}/", size)
    assert_seen(page, TOGGLE, fits=True, scroll=False)
    _set_max_tokens_with_the_keyboard(page, size, conversation)

    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    page.fill("[data-composer-text]", "Tell me a story")
    page.press("[data-composer-text]", "Enter")
    page.wait_for_selector(f"{ANSWER}[data-state='complete']", timeout=60_000)
    limit = f"{ANSWER} [data-field='limit']"
    assert_seen(page, limit)
    assert page.inner_text(limit).startswith("Stopped at the 16-token limit")
    button = f"{ANSWER} [data-act='continue']"
    assert_seen(page, button, fits=True)
    assert_no_sideways_scroll(page)
    screenshot(page, f"sampling-limit-{size}")

    first = Message.objects.get(conversation=conversation, role="assistant").content
    _, before = _answer(page)
    page.click(button)
    wait_for(
        lambda: (state_length := _answer(page))[0] == "complete" and state_length[1] > before,
        timeout=60,
        what="the same answer to grow and finish again",
    )
    assert page.locator(ANSWER).count() == 1
    answer = Message.objects.get(conversation=conversation, role="assistant")
    assert answer.content.startswith(first)
    assert _answer(page)[1] == utf16_length(answer.content)
    assert page.inner_text(limit).startswith("Stopped at the 16-token limit")  # it stopped at the limit again
    screenshot(page, f"sampling-continued-{size}")

    # Reset to the model's defaults, then Escape closes the panel from the keyboard.
    page.click(TOGGLE)
    page.click(f"{PANEL} [data-sampling-reset]")
    page.wait_for_function(f"() => document.querySelector('{MAX_TOKENS}').value === '512'")
    assert Conversation.objects.get(pk=conversation.pk).max_tokens is None
    assert page.is_hidden("[data-sampling-dot]")
    page.press(MAX_TOKENS, "Escape")
    page.wait_for_function(f"() => !document.querySelector('{PANEL}').open")
    # Chromium logs the refused value's 400 answer; nothing else went wrong.
    assert [problem for problem in page.problems if "400 (Bad Request)" not in problem] == []


@pytest.mark.parametrize("size", SIZES)
def test_the_owner_sets_a_models_household_defaults_on_its_card(
    olivia: Any, tmp_path: Path, open_at: Any, size: str
) -> None:
    from tests.support.tiny_gguf import CHAT_TEMPLATES, tiny_chat_model_write

    path = tiny_chat_model_write(
        path=tmp_path / "tiny-recommends.gguf", template=CHAT_TEMPLATES["chatml"], sampling={"temp": 0.6}
    )
    model = chat_model_add(path)
    page = open_at(olivia, "/models/", size)
    card = f"#model-{model.pk}"
    assert "Temperature 0.6" in page.inner_text(f"{card} [data-model-sampling]")
    page.click(f"{card} .model-sampling > summary")
    field = f"#model-{model.pk}-sampling-temperature"
    assert_seen(page, field)
    assert page.input_value(field) == "0.6"  # what the file recommends
    assert "from the model file" in page.inner_text(f"{card} [data-sampling-field='temperature']")
    page.fill(field, "0.9")
    screenshot(page, f"sampling-model-card-{size}")
    page.click(f"{card} .model-sampling__actions button:not([name])")
    page.wait_for_url(f"**/models/#model-{model.pk}")
    assert "Saved the household's sampling defaults" in page.inner_text("main")
    assert LocalModel.objects.get(pk=model.pk).sampling_defaults == {"temperature": 0.9}
    assert "Temperature 0.9" in page.inner_text(f"{card} [data-model-sampling]")
    assert_no_sideways_scroll(page)
    assert page.problems == []
