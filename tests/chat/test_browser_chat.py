"""The Chat page in a real browser: daphne, the llm worker and chromium, end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from assistant.chat.services import conversation_create, utf16_length
from assistant.core.events import event_pump
from assistant.models import Message
from tests.support.browser import browser_fixture, open_page_fixture, web_server_fixture  # noqa: F401
from tests.support.services import WorkerProcess, chat_model_add, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ANSWER = ".msg--assistant"
LONG_PROMPT = "Write a very long story about a dragon."
FINAL = ("complete", "incomplete", "failed")

# Model output that must stay text: every item would run script if it reached the DOM as HTML.
XSS_CORPUS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[click](javascript:window.__xss=1)",
    '<svg onload="window.__xss=1">',
    '<a href="javascript:window.__xss=1">x</a>',
    '<iframe src="javascript:window.__xss=1">',
    "![x](x onerror=window.__xss=1)",
    "![pic](https://example.invalid/x.png)",
    "[spaced](  JaVaScRiPt:window.__xss=1 )",
    "<details open ontoggle=window.__xss=1>",
    "```html\n<script>window.__xss=1</script>\n```",
]

# What the page must not contain inside its messages, whatever the model wrote.
INERT_CHECK = """() => {
  const log = document.querySelector("[data-chat-log]");
  const problems = [];
  for (const el of log.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) problems.push(`${el.tagName} has ${attr.name}`);
      if (/^\\s*(javascript|data|vbscript):/i.test(attr.value)) problems.push(`${el.tagName} ${attr.name}`);
    }
  }
  const active = "script, iframe, img, object, embed, form, svg:not(.icon), details";
  for (const el of log.querySelectorAll(`.msg__body :is(${active})`)) problems.push(`${el.tagName} in a body`);
  return problems;
}"""


def _send(page: Any, text: str) -> None:
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    page.fill("[data-composer-text]", text)
    page.press("[data-composer-text]", "Enter")


def _answer_state(page: Any) -> str:
    return page.get_attribute(f"{ANSWER}:last-child", "data-state") or ""


def _length(page: Any) -> int:
    return int(page.get_attribute(f"{ANSWER}:last-child", "data-length") or 0)


def _words(text: str | None) -> list[str]:
    """The words of a rendered answer, without the Markdown marks a half-written one may still show."""
    return re.findall(r"\w+", text or "")


def _png(path: Path) -> Path:
    Image.new("RGB", (48, 32), (200, 30, 30)).save(path, "PNG")
    return path


def _record_answer(page: Any) -> None:
    """Collect (state, length) of the latest answer each time the page changes it."""
    page.evaluate(
        """() => {
          window.__seen = [];
          const log = document.querySelector("[data-chat-log]");
          const note = () => {
            const answers = log.querySelectorAll(".msg--assistant");
            const last = answers[answers.length - 1];
            if (last) window.__seen.push([last.dataset.state, Number(last.dataset.length)]);
          };
          const all = {subtree: true, childList: true, attributes: true, characterData: true};
          new MutationObserver(note).observe(log, all);
        }"""
    )


def test_an_answer_streams_in_and_stop_keeps_the_text(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path], open_page: Any
) -> None:
    from tests.support.tiny_gguf import smollm2_gguf_path

    chat_model_add(tiny_models["llama3"])
    conversation = conversation_create(owner=alice)
    page = open_page(alice, f"/chat/{conversation.pk}/")
    assert page.is_visible("[data-chat-empty]")  # suggestions on a new conversation
    _record_answer(page)
    _send(page, "Hello there")

    page.wait_for_selector(f"{ANSWER}[data-state='complete']", timeout=60_000)
    seen = page.evaluate("window.__seen")
    lengths = {length for state, length in seen if state in ("streaming", "complete")}
    assert any(state == "streaming" for state, _ in seen) or len(lengths) >= 2, seen
    stored = Message.objects.filter(conversation=conversation, role="assistant").get()
    assert stored.state == "complete"
    assert _length(page) == utf16_length(stored.content)
    stats = page.text_content(f"{ANSWER} [data-field='stats']") or ""
    assert "tokens/s" in stats
    assert f"context: {stored.prompt_tokens + stored.completion_tokens}/{stored.context_size:,}" in stats
    assert page.is_visible(f"{ANSWER} [data-act='regenerate']")
    assert page.text_content(".msg--user .msg__body") == "Hello there"
    assert page.is_hidden("[data-chat-empty]")
    assert page.input_value("[data-composer-text]") == ""
    assert page.text_content("[data-chat-title]") == "Hello there"  # named after the first message

    # A real model writing a long story: stop it after the first words.
    smollm2 = chat_model_add(smollm2_gguf_path(), default=False)
    story = conversation_create(owner=alice, model=smollm2)
    page.goto(f"/chat/{story.pk}/")
    _send(page, LONG_PROMPT)
    page.wait_for_function(
        f"() => {{ const m = document.querySelector('{ANSWER}'); return m && Number(m.dataset.length) > 0; }}",
        timeout=60_000,
    )
    assert page.is_hidden("[data-send]")  # Stop replaces Send while the answer is written
    page.click("[data-stop]")
    page.wait_for_selector(f"{ANSWER}[data-state='incomplete']", timeout=30_000)
    assert page.text_content(f"{ANSWER} [data-field='state']") == "Stopped early"
    answer = Message.objects.get(conversation=story, role="assistant")
    assert answer.state == "incomplete"
    assert answer.content
    assert _length(page) == utf16_length(answer.content)
    assert (page.text_content(f"{ANSWER} .msg__body") or "").strip()
    assert page.is_visible("[data-send]")
    assert not page.problems


def test_a_photo_goes_to_a_vision_model_and_a_text_model_says_it_cannot_see(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path], open_page: Any, tmp_path: Path
) -> None:
    from tests.support.tiny_gguf import MMPROJ_IMAGE_TOKENS

    vision = chat_model_add(tiny_models["llama3"], projector=tiny_models["projector"])
    text_only = chat_model_add(tiny_models["chatml"], default=False)
    photo = _png(tmp_path / "red.png")

    conversation = conversation_create(owner=alice, model=vision)
    page = open_page(alice, f"/chat/{conversation.pk}/")
    page.set_input_files("[data-file-input]", str(photo))
    page.wait_for_selector(".attachment:not(.attachment--uploading)")
    _send(page, "What is in this photo?")
    page.wait_for_selector(".msg--user .msg__images img")
    # The tiny vision model writes slowly until it runs out of room: its first words are enough.
    page.wait_for_function(
        f"() => {{ const m = document.querySelector('{ANSWER}'); return m && Number(m.dataset.length) > 0; }}",
        timeout=60_000,
    )
    page.click("[data-stop]")
    page.wait_for_selector(f"{ANSWER}:is([data-state='incomplete'], [data-state='complete'])", timeout=30_000)
    question = Message.objects.get(conversation=conversation, role="user")
    assert question.images.count() == 1
    answer = Message.objects.get(conversation=conversation, role="assistant")
    assert answer.content
    assert answer.prompt_tokens > MMPROJ_IMAGE_TOKENS  # the photo was part of the prompt
    assert (page.text_content(f"{ANSWER} .msg__body") or "").strip()
    assert page.is_hidden("[data-attachments]")
    assert page.evaluate("document.querySelector('.msg--user .msg__images img').naturalWidth") > 0

    blind = conversation_create(owner=alice, model=text_only)
    page.goto(f"/chat/{blind.pk}/")
    page.set_input_files("[data-file-input]", str(photo))
    page.wait_for_selector(".attachment:not(.attachment--uploading)")
    _send(page, "And this one?")
    page.wait_for_selector("[data-composer-error]:not([hidden])")
    error = page.text_content("[data-composer-error]") or ""
    assert "cannot see photos" in error
    assert vision.name in error
    # Nothing was lost: the text and the photo are back in the composer to try again.
    assert page.input_value("[data-composer-text]") == "And this one?"
    assert page.locator(".attachment").count() == 1
    assert not blind.messages.exists()
    assert not page.problems


def _assert_inert(page: Any) -> None:
    page.wait_for_timeout(300)  # time for any injected handler to fire
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(INERT_CHECK) == []
    code = page.locator(".msg__body pre").last.text_content() or ""
    assert "<script>window.__xss=1</script>" in code


def test_model_output_cannot_run_script(alice: Any, tiny_models: dict[str, Path], open_page: Any) -> None:
    chat_model_add(tiny_models["llama3"])
    conversation = conversation_create(owner=alice)
    Message.objects.create(conversation=conversation, role="user", content="Show me some HTML <b>please</b>")
    for item in XSS_CORPUS:
        Message.objects.create(conversation=conversation, role="assistant", content=f"Here:\n\n{item}\n\nafter")
    page = open_page(alice, f"/chat/{conversation.pk}/")
    page.wait_for_selector(f"{ANSWER} >> nth={len(XSS_CORPUS) - 1}")
    _assert_inert(page)
    assert page.text_content(".msg--user .msg__body") == "Show me some HTML <b>please</b>"
    body = page.text_content(f"{ANSWER} >> nth=0") or ""
    assert "<script>window.__xss=1</script>" in body  # shown as text, not dropped
    links = page.eval_on_selector_all(".msg__body a", "links => links.map(a => [a.getAttribute('href'), a.rel])")
    assert all(href is None or href.startswith("https:") for href, _ in links), links

    # The same corpus, streamed token by token into an answer being written.
    streaming = conversation_create(owner=alice)
    Message.objects.create(conversation=streaming, role="user", content="go")
    answer = Message.objects.create(
        conversation=streaming, role="assistant", state=Message.State.STREAMING, model_name="Tiny"
    )
    page.goto(f"/chat/{streaming.pk}/")
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    text = "\n\n".join(XSS_CORPUS) + "\n\nThe end."
    pieces = re.findall(r".{1,7}", text, flags=re.S)
    offset = 0
    for piece in pieces:
        event = {
            "type": "chat.token",
            "message": answer.pk,
            "conversation": streaming.pk,
            "offset": offset,
            "text": piece,
        }
        event_pump.publish(user_id=alice.pk, event=event)
        offset += utf16_length(piece)
    assert event_pump.flush()
    page.wait_for_function(f"() => document.querySelector('{ANSWER}').dataset.length === '{utf16_length(text)}'")
    page.wait_for_function(f"() => document.querySelector('{ANSWER} .msg__body').textContent.includes('The end.')")
    _assert_inert(page)
    assert page.get_attribute(ANSWER, "data-state") == "streaming"
    assert not page.problems


def test_a_reload_mid_answer_picks_the_stream_up_where_it_was(
    worker: WorkerProcess, alice: Any, open_page: Any
) -> None:
    from tests.support.tiny_gguf import smollm2_gguf_path

    chat_model_add(smollm2_gguf_path())
    conversation = conversation_create(owner=alice)
    page = open_page(alice, f"/chat/{conversation.pk}/")
    _send(page, LONG_PROMPT)
    wait_for(
        lambda: Message.objects.filter(
            conversation=conversation, role="assistant", content__regex=r"\w+ \w+ \w+"
        ).exists(),
        timeout=60,
        what="the first words of the answer in the database",
    )
    # The page may trail the database on a busy machine: compare what it had shown, once it shows words.
    wait_for(lambda: len(_words(page.text_content(f"{ANSWER} .msg__body"))) >= 3, timeout=60, what="words on the page")
    before = _words(page.text_content(f"{ANSWER} .msg__body"))

    page.reload()
    page.wait_for_selector(f"{ANSWER}[data-state='streaming']")
    after = _words(page.text_content(f"{ANSWER} .msg__body"))
    same = min(len(before), len(after)) - 1  # the last word may have been cut mid-way
    assert same >= 2, (before, after)
    assert before[:same] == after[:same]
    _record_answer(page)
    start = _length(page)
    wait_for(
        lambda: len({n for state, n in page.evaluate("window.__seen") if state == "streaming" and n > start}) >= 2,
        timeout=30,
        what="the answer to keep growing after the reload",
    )
    page.click("[data-stop]")
    page.wait_for_function(
        f"() => ['incomplete', 'complete'].includes(document.querySelector('{ANSWER}').dataset.state)"
    )

    answer = Message.objects.get(conversation=conversation, role="assistant")
    assert answer.state in FINAL
    lengths = [n for _, n in page.evaluate("window.__seen")]
    assert lengths == sorted(lengths), "the text only ever grew"
    assert _length(page) == utf16_length(answer.content)
    shown = page.inner_html(f"{ANSWER} .msg__body")
    fresh = open_page(alice, f"/chat/{conversation.pk}/")
    assert fresh.inner_html(f"{ANSWER} .msg__body") == shown
    assert not page.problems
    assert not fresh.problems
