"""Sampling settings (issue 12, item 5): per conversation, household defaults per model (the GGUF's own
recommendations when it has some), checked on the server; an answer that reaches its token limit says so and
can be continued, the same message growing. Real GGUF files, the real worker and llama.cpp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from assistant.chat.sampling import conversation_sampling_update
from assistant.chat.services import ChatError, conversation_create, message_continue, utf16_length
from assistant.llm.cards import model_context_tokens
from assistant.llm.gguf_info import gguf_info_read
from assistant.llm.sampling import HEARTH_SAMPLING, Sampling, conversation_sampling
from assistant.models import Conversation, LocalModel, Message
from tests.support.services import WorkerProcess, chat_model_add, session_cookie, ws_open
from tests.support.tiny_gguf import CHAT_TEMPLATES, TINY_CONTEXT_LENGTH, tiny_chat_model_write

JSON = {"accept": "application/json"}
FINAL = ("complete", "incomplete", "failed")
RECOMMENDED = {"temp": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.0, "penalty_repeat": 1.05}


@pytest.fixture
def recommending_model(tmp_path: Path) -> Path:
    """A tiny model whose file recommends its own sampling, as llama.cpp's converter writes it."""
    return tiny_chat_model_write(
        path=tmp_path / "tiny-recommends.gguf",
        template=CHAT_TEMPLATES["chatml"],
        name="Tiny Recommends",
        sampling=RECOMMENDED,
    )


def _sampling(conversation: Conversation) -> tuple[Sampling, int]:
    conversation.refresh_from_db()
    model = (
        LocalModel.objects.get(pk=conversation.model_id)
        if conversation.model_id
        else LocalModel.objects.get(is_default=True)
    )
    return conversation_sampling(conversation=conversation, model=model, context_size=model_context_tokens(model))


@pytest.mark.django_db
def test_defaults_come_from_the_file_then_the_household_and_a_chat_overrides_them(
    recommending_model: Path, tiny_models: dict[str, Path], alice: Any, olivia: Any
) -> None:
    info = gguf_info_read(path=recommending_model)
    assert info.sampling == {"temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.0, "repeat_penalty": 1.05}
    model = chat_model_add(recommending_model)
    plain = chat_model_add(tiny_models["chatml"], default=False)
    conversation = conversation_create(owner=alice)
    assert _sampling(conversation) == (Sampling(0.6, 0.9, 20, 0.0, 1.05), TINY_CONTEXT_LENGTH)

    # A file that recommends nothing: Hearth's defaults, and the longest answer the context allows.
    other = conversation_create(owner=alice, model=plain)
    assert _sampling(other) == (HEARTH_SAMPLING, min(1024, TINY_CONTEXT_LENGTH))

    # The owner sets household defaults on the Models page: they win over the file's.
    owner = Client()
    owner.force_login(olivia)
    response = owner.post(f"/models/{model.pk}/sampling/", {"temperature": "1.2", "top_p": "0.9", "max_tokens": "300"})
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.sampling_defaults == {"temperature": 1.2, "max_tokens": 300}  # 0.9 is the file's own: not kept
    assert _sampling(conversation) == (Sampling(1.2, 0.9, 20, 0.0, 1.05), 300)
    page = owner.get("/models/").content.decode()
    assert "Temperature 1.2" in page

    # Alice's chat: its own values, only where they differ from the model's defaults.
    member = Client()
    member.force_login(alice)
    sent = {"temperature": "0", "top_p": "0.9", "max_tokens": "16", "repeat_penalty": "1.05"}
    reply = member.post(f"/chat/{conversation.pk}/sampling/", sent, headers=JSON)
    assert reply.status_code == 200, reply.content
    conversation.refresh_from_db()
    assert (conversation.temperature, conversation.top_p, conversation.max_tokens) == (0.0, None, 16)
    assert _sampling(conversation) == (Sampling(0.0, 0.9, 20, 0.0, 1.05), 16)
    fields = {field["name"]: field for field in reply.json()["sampling"]["fields"]}
    assert fields["max_tokens"]["value"] == "16"
    assert fields["max_tokens"]["max"] == str(TINY_CONTEXT_LENGTH)
    assert fields["top_p"]["source"] == "from the model file"
    assert fields["temperature"]["default"] == "1.2"
    assert fields["temperature"]["source"] == "set by the household"

    # Reset: back to the model's defaults; the owner's reset: back to the file's.
    assert member.post(f"/chat/{conversation.pk}/sampling/", {"reset": "1"}, headers=JSON).status_code == 200
    assert _sampling(conversation) == (Sampling(1.2, 0.9, 20, 0.0, 1.05), 300)
    owner.post(f"/models/{model.pk}/sampling/", {"reset": "1"})
    assert _sampling(conversation) == (Sampling(0.6, 0.9, 20, 0.0, 1.05), TINY_CONTEXT_LENGTH)


@pytest.mark.django_db
def test_values_out_of_range_are_refused_with_what_to_do_and_nothing_is_saved(
    tiny_models: dict[str, Path], alice: Any
) -> None:
    chat_model_add(tiny_models["chatml"])
    conversation = conversation_create(owner=alice)
    conversation_sampling_update(conversation=conversation, raw={"temperature": "0.9"})
    member = Client()
    member.force_login(alice)

    bad = {"temperature": "3", "top_p": "lots", "max_tokens": "9999", "repeat_penalty": "0.5"}
    reply = member.post(f"/chat/{conversation.pk}/sampling/", bad, headers=JSON)
    assert reply.status_code == 400
    refused = reply.json()["errors"]
    assert refused["temperature"] == "Temperature must be from 0 to 2; you entered 3."
    assert refused["top_p"] == "Top-p must be a number, for example 0.95."
    assert refused["max_tokens"] == (
        f"Max tokens must be from 16 to {TINY_CONTEXT_LENGTH} (the model's context); you entered 9999."
    )
    assert refused["repeat_penalty"] == "Repeat penalty must be from 1 to 2; you entered 0.5."

    def errors(data: dict[str, str]) -> dict[str, str]:
        result: dict[str, str] = member.post(f"/chat/{conversation.pk}/sampling/", data, headers=JSON).json()["errors"]
        return result

    for value in ("nan", "inf", "-0.1", "1e400", "²", "1_0", "٣", "0x1"):
        assert "Temperature must be" in errors({"temperature": value})["temperature"]
    assert errors({"max_tokens": "12.5"})["max_tokens"] == "Max tokens must be a whole number, for example 512."
    conversation.refresh_from_db()
    assert conversation.temperature == 0.9  # nothing was saved

    # Without JavaScript: the page again, with the same words.
    page = member.post(f"/chat/{conversation.pk}/sampling/", {"temperature": "3"}, follow=True).content.decode()
    assert "Temperature must be from 0 to 2; you entered 3." in page


@pytest.mark.django_db
def test_a_member_cannot_read_or_change_anothers_chat_settings_nor_the_households(
    tiny_models: dict[str, Path], alice: Any, bob: Any
) -> None:
    model = chat_model_add(tiny_models["chatml"])
    conversation = conversation_create(owner=alice)
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.get(f"/chat/{conversation.pk}/sampling/", headers=JSON).status_code == 404
    assert intruder.post(f"/chat/{conversation.pk}/sampling/", {"temperature": "2"}, headers=JSON).status_code == 404
    assert intruder.post(f"/chat/{conversation.pk}/sampling/", {"reset": "1"}).status_code == 404
    # Only the owner sets the household's defaults.
    assert intruder.post(f"/models/{model.pk}/sampling/", {"temperature": "2"}, headers=JSON).status_code == 403
    conversation.refresh_from_db()
    model.refresh_from_db()
    assert conversation.temperature is None
    assert model.sampling_defaults == {}

    answer = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, content="Once upon", token_limit=16
    )
    with pytest.raises(ChatError, match="not yours"):
        message_continue(owner=bob, message_id=answer.pk)


@pytest.mark.django_db
def test_continue_is_refused_while_another_answer_is_written_and_for_a_finished_answer(
    tiny_models: dict[str, Path], alice: Any
) -> None:
    chat_model_add(tiny_models["chatml"])
    first, second = conversation_create(owner=alice), conversation_create(owner=alice)
    Message.objects.create(conversation=first, role=Message.Role.USER, content="Tell me a story")
    cut = Message.objects.create(conversation=first, role=Message.Role.ASSISTANT, content="Once", token_limit=16)
    Message.objects.create(conversation=second, role=Message.Role.USER, content="And another")
    writing = Message.objects.create(conversation=second, role=Message.Role.ASSISTANT, state=Message.State.STREAMING)
    with pytest.raises(ChatError, match="still being written"):
        message_continue(owner=alice, message_id=cut.pk)
    Message.objects.filter(pk=writing.pk).update(state=Message.State.COMPLETE, content="The end.")
    with pytest.raises(ChatError, match="nothing to continue"):
        message_continue(owner=alice, message_id=writing.pk)
    assert Message.objects.get(pk=cut.pk).state == Message.State.COMPLETE


# --- through the worker ----------------------------------------------------------------------------


async def _until_final(socket: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tokens: list[dict[str, Any]] = []
    while True:
        event = await socket.receive_json_from(timeout=60)
        if event["type"] == "error":
            pytest.fail(event["error"])
        if event["type"] == "chat.token":
            tokens.append(event)
        message = event.get("message") if event["type"] == "chat.message" else None
        if message and message["role"] == "assistant" and message["state"] in FINAL:
            return message, tokens


@pytest.mark.worker
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_max_tokens_stops_the_answer_says_so_and_continue_appends_to_the_same_answer(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    await database_sync_to_async(chat_model_add)(tiny_models["chatml"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    await database_sync_to_async(conversation_sampling_update)(conversation=conversation, raw={"max_tokens": "16"})
    socket = await ws_open(await database_sync_to_async(session_cookie)(alice))
    assert (await socket.connect())[0]

    await socket.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "Tell me a story"})
    first, _ = await _until_final(socket)
    assert first["state"] == "complete"
    assert first["completion_tokens"] == 16
    assert first["token_limit"] == 16

    await socket.send_json_to({"action": "chat.continue", "message": first["id"]})
    more, tokens = await _until_final(socket)
    assert more["id"] == first["id"]
    assert more["state"] == "complete"
    assert more["content"].startswith(first["content"])
    assert len(more["content"]) > len(first["content"])
    assert tokens[0]["offset"] == utf16_length(first["content"])  # the new text follows the old on the page
    assert more["content"] == first["content"] + "".join(token["text"] for token in tokens)
    assert more["completion_tokens"] <= 16
    assert more["prompt_tokens"] > first["prompt_tokens"]  # the answer so far was part of the prompt
    count = await database_sync_to_async(Message.objects.filter(conversation=conversation).count)()
    assert count == 2  # no new message

    await socket.disconnect()


def test_an_answer_cut_by_the_full_context_says_so_and_offers_no_continue() -> None:
    from assistant.chat.answer import _context_filled
    from assistant.llm.engine import StreamStats

    full = StreamStats(prompt_tokens=30, completion_tokens=482, context_size=512, finish_reason="length")
    assert "fills the model's 512-token context" in _context_filled(full, max_tokens=1000)
    assert full.finish_reason == "context"  # so no token_limit is recorded, and the page offers no Continue

    at_max = StreamStats(prompt_tokens=30, completion_tokens=16, context_size=512, finish_reason="length")
    assert _context_filled(at_max, max_tokens=16) == ""
    assert at_max.finish_reason == "length"
