"""Chat through the real stack: websocket → Redis → the llm worker running llama.cpp → websocket."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from PIL import Image

from assistant.chat.services import conversation_create
from assistant.models import Message
from tests.support.model_files import wait_for_job
from tests.support.services import WorkerProcess, chat_model_add, session_cookie, wait_for, ws_open

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
FINAL = ("complete", "incomplete", "failed")


async def _socket_for(user: Any) -> Any:
    socket = await ws_open(await database_sync_to_async(session_cookie)(user))
    assert (await socket.connect())[0]
    return socket


async def _until_answer_final(socket: Any, *, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Collect token events until the assistant message reaches a final state."""
    tokens: list[dict[str, Any]] = []
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        if event["type"] == "error":
            pytest.fail(event["error"])
        if event["type"] == "chat.token":
            tokens.append(event)
        message = event.get("message") if event["type"] == "chat.message" else None
        if message and message["role"] == "assistant" and message["state"] in FINAL:
            return message, tokens


def _png(size: int = 32, color: tuple[int, int, int] = (200, 30, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    return buffer


@pytest.mark.asyncio
async def test_an_answer_streams_token_by_token_and_is_kept(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    await database_sync_to_async(chat_model_add)(tiny_models["llama3"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    socket = await _socket_for(alice)

    await socket.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "Hello there"})
    answer, tokens = await _until_answer_final(socket)
    await socket.disconnect()

    assert answer["state"] == "complete"
    assert len(tokens) >= 1
    streamed = "".join(token["text"] for token in tokens)
    assert streamed == answer["content"]
    offsets = [token["offset"] for token in tokens]
    assert offsets[0] == 0
    assert offsets == sorted(offsets)
    assert answer["completion_tokens"] > 0
    assert 0 < answer["prompt_tokens"] < answer["context_size"]
    stored = await database_sync_to_async(Message.objects.get)(pk=answer["id"])
    assert stored.content == streamed
    assert (await database_sync_to_async(lambda: conversation.messages.first().content)()) == "Hello there"


@pytest.mark.asyncio
async def test_a_member_cannot_send_into_or_stop_anothers_conversation(
    worker: WorkerProcess, alice: Any, bob: Any, tiny_models: dict[str, Path]
) -> None:
    await database_sync_to_async(chat_model_add)(tiny_models["llama3"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    bobs = await _socket_for(bob)
    await bobs.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "let me in"})
    reply = await bobs.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    assert "not yours" in reply["error"]

    alices = await _socket_for(alice)
    await alices.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "Hello"})
    answer, _ = await _until_answer_final(alices)
    await bobs.send_json_to({"action": "message.get", "id": answer["id"]})
    assert (await bobs.receive_json_from(timeout=5))["type"] == "error"
    assert await bobs.receive_nothing(timeout=0.3)  # none of Alice's tokens reached Bob
    await alices.disconnect()
    await bobs.disconnect()


def test_a_member_cannot_open_anothers_conversation_or_photo(
    client: Client, alice: Any, bob: Any, tiny_models: dict[str, Path]
) -> None:
    conversation = conversation_create(owner=alice)
    client.force_login(alice)
    image_id = client.post("/chat/images/", {"image": _png()}).json()["id"]
    assert client.get(f"/chat/images/{image_id}/").status_code == 200

    client.force_login(bob)
    assert client.get(f"/chat/{conversation.pk}/").status_code == 404
    assert client.get(f"/chat/images/{image_id}/").status_code == 404
    assert client.post(f"/chat/{conversation.pk}/delete/").status_code == 404


@pytest.mark.asyncio
async def test_stopping_keeps_the_partial_answer_and_marks_it_incomplete(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    from tests.support.tiny_gguf import smollm2_gguf_path

    await database_sync_to_async(chat_model_add)(smollm2_gguf_path())
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    socket = await _socket_for(alice)
    await socket.send_json_to(
        {"action": "chat.send", "conversation": conversation.pk, "text": "Write a very long story about a dragon."}
    )
    while (event := await socket.receive_json_from(timeout=60))["type"] != "chat.token":
        pass
    await socket.send_json_to({"action": "chat.stop", "message": event["message"]})
    answer, tokens = await _until_answer_final(socket)
    await socket.disconnect()

    assert answer["state"] == "incomplete"
    assert answer["content"].startswith(event["text"])
    assert answer["content"] == event["text"] + "".join(token["text"] for token in tokens)
    assert answer["completion_tokens"] < 200


def test_a_partial_answer_survives_a_worker_kill(worker: WorkerProcess, alice: Any) -> None:
    from assistant.chat.services import message_send
    from tests.support.tiny_gguf import smollm2_gguf_path

    chat_model_add(smollm2_gguf_path())
    conversation = conversation_create(owner=alice)
    answer = message_send(owner=alice, conversation_id=conversation.pk, text="Write a very long story about a dragon.")

    def partly_written() -> bool:
        answer.refresh_from_db()
        return answer.state == Message.State.STREAMING and len(answer.content) > 20

    wait_for(partly_written, timeout=60, what="the answer to be partly written")
    worker.kill()
    saved = Message.objects.get(pk=answer.pk).content
    worker.start()
    wait_for(lambda: Message.objects.get(pk=answer.pk).state == Message.State.INCOMPLETE, timeout=60, what="recovery")

    answer.refresh_from_db()
    assert answer.content == saved
    assert "stopped while writing" in answer.notice


@pytest.mark.asyncio
async def test_each_photo_reaches_the_vision_model_as_its_image_tokens(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    from django.test import AsyncClient

    from tests.support.tiny_gguf import MMPROJ_IMAGE_TOKENS

    await database_sync_to_async(chat_model_add)(tiny_models["llama3"], projector=tiny_models["projector"])
    web = AsyncClient()
    await web.aforce_login(alice)
    photos = [
        (await web.post("/chat/images/", {"image": _png(color=c)})).json()["id"] for c in ((200, 0, 0), (0, 0, 200))
    ]
    socket = await _socket_for(alice)
    prompt_tokens = []
    for attached in ([], photos[:1], photos):
        conversation = await database_sync_to_async(conversation_create)(owner=alice)
        await socket.send_json_to(
            {"action": "chat.send", "conversation": conversation.pk, "text": "What is this?", "images": attached}
        )
        answer, _ = await _until_answer_final(socket)
        assert answer["state"] == "complete", answer
        prompt_tokens.append(answer["prompt_tokens"])
    await socket.disconnect()

    none, one, two = prompt_tokens
    assert one > none
    assert two - one == MMPROJ_IMAGE_TOKENS


@pytest.mark.asyncio
async def test_a_text_only_model_given_a_photo_says_which_models_can_see(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    from django.test import AsyncClient

    await database_sync_to_async(chat_model_add)(tiny_models["chatml"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    web = AsyncClient()
    await web.aforce_login(alice)
    image_id = (await web.post("/chat/images/", {"image": _png()})).json()["id"]
    socket = await _socket_for(alice)
    await socket.send_json_to(
        {"action": "chat.send", "conversation": conversation.pk, "text": "?", "images": [image_id]}
    )
    reply = await socket.receive_json_from(timeout=5)
    await socket.disconnect()
    assert reply["type"] == "error"
    assert "cannot see photos" in reply["error"]
    assert "no vision model is installed" in reply["error"]


@pytest.mark.asyncio
async def test_a_long_history_drops_the_oldest_turns_and_says_so(
    worker: WorkerProcess, alice: Any, tiny_models: dict[str, Path]
) -> None:
    await database_sync_to_async(chat_model_add)(tiny_models["chatml"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)

    def long_history() -> None:
        for turn in range(12):
            Message.objects.create(conversation=conversation, role="user", content=f"question {turn} " + "word " * 60)
            Message.objects.create(conversation=conversation, role="assistant", content="answer " * 60)

    await database_sync_to_async(long_history)()
    socket = await _socket_for(alice)
    await socket.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "And now?"})
    answer, _ = await _until_answer_final(socket)
    await socket.disconnect()
    assert answer["state"] == "complete"
    assert "oldest" in answer["notice"]
    assert "left out" in answer["notice"]
    assert answer["prompt_tokens"] <= answer["context_size"]


def test_another_message_waits_until_the_answer_is_done(alice: Any, tiny_models: dict[str, Path]) -> None:
    from assistant.chat.services import ChatError, message_send, message_stop

    chat_model_add(tiny_models["llama3"])
    conversation = conversation_create(owner=alice)
    answer = message_send(owner=alice, conversation_id=conversation.pk, text="first")
    with pytest.raises(ChatError, match="still being written"):
        message_send(owner=alice, conversation_id=conversation.pk, text="second")
    # A worker another test started may be writing the first answer: it must be done before the
    # database is emptied for the next test (PostgreSQL deadlocks a flush against its writes).
    answer.refresh_from_db()
    message_stop(message=answer)
    assert answer.job_id is not None
    wait_for_job(answer.job_id)


def _noisy_png() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), random.Random(0).randbytes(64 * 64 * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"MZ\x90\x00 this is an executable", "not a photo"),
        (_noisy_png()[:3000], "damaged or incomplete"),
    ],
)
def test_bad_photos_get_a_clear_error(client: Client, alice: Any, payload: bytes, error: str) -> None:
    client.force_login(alice)
    upload = io.BytesIO(payload)
    upload.name = "holiday.jpg"
    response = client.post("/chat/images/", {"image": upload})
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_a_decompression_bomb_is_refused(client: Client, alice: Any) -> None:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, "PNG")  # a few KB that decode to 144 megapixels
    buffer.seek(0)
    buffer.name = "bomb.png"
    client.force_login(alice)
    response = client.post("/chat/images/", {"image": buffer})
    assert response.status_code == 400
    assert "pixels" in response.json()["error"]


def test_photos_are_turned_upright_and_scaled_down(client: Client, alice: Any, settings: Any) -> None:
    settings.HEARTH_IMAGE_MAX_SIDE = 100
    image = Image.new("RGB", (400, 200), (10, 200, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    buffer.seek(0)
    buffer.name = "sideways.jpg"
    client.force_login(alice)
    reply = client.post("/chat/images/", {"image": buffer}).json()
    assert (reply["width"], reply["height"]) == (50, 100)


def test_members_waiting_for_the_model_see_their_place_in_the_queue(alice: Any, bob: Any) -> None:
    from assistant.chat.services import message_payload, message_stop
    from assistant.models import Job

    def waiting_answer(owner: Any) -> Message:
        # Queued, with no message on the broker: nothing takes it while the test looks.
        job = Job.objects.create(owner=owner, kind="chat", title="Answer")
        conversation = conversation_create(owner=owner)
        return Message.objects.create(conversation=conversation, role="assistant", state="queued", job=job)

    first, second = waiting_answer(alice), waiting_answer(bob)
    assert message_payload(first)["queue_position"] == 0
    assert message_payload(second)["queue_position"] == 1

    message_stop(message=first)
    second.refresh_from_db()
    assert message_payload(second)["queue_position"] == 0


def test_a_writing_worker_hears_a_stop_at_once_without_polling(alice: Any, tiny_models: dict[str, Path]) -> None:
    from assistant.chat.services import message_stop
    from assistant.chat.stop import StopSignal

    conversation = conversation_create(owner=alice)
    early = Message.objects.create(conversation=conversation, role="assistant", state="streaming")
    message_stop(message=early)
    with StopSignal(early.pk) as heard:
        assert heard.is_set()  # asked for before the worker started listening

    later = Message.objects.create(conversation=conversation, role="assistant", state="streaming")
    with StopSignal(later.pk) as heard:
        assert not heard.is_set()
        message_stop(message=later)
        assert heard.wait(timeout=2)
