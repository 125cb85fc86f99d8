"""Versions of messages: regenerate and edit keep what was there, the prompt follows the chosen branch.

The services are called as the consumer calls them, on the real database. Where an answer would be
written by the worker, the test writes the answer's text itself (the worker is exercised in the
websocket test at the end, which runs the real llm worker with a tiny model).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.apps import apps
from django.test import Client

from assistant.chat.answer import _history, _question
from assistant.chat.services import ChatError, conversation_create, message_payload, message_send
from assistant.chat.versions import (
    conversation_thread,
    message_edit,
    message_regenerate,
    message_version_choose,
    thread_payloads,
)
from assistant.models import Conversation, Message
from tests.support.services import WorkerProcess, chat_model_add, session_cookie, ws_open

FINAL = ("complete", "incomplete", "failed")


def _answered(answer: Message, text: str) -> Message:
    """What the worker does when it has written `text`."""
    Message.objects.filter(pk=answer.pk).update(content=text, state=Message.State.COMPLETE)
    answer.refresh_from_db()
    return answer


def _turn(owner: Any, conversation: Conversation, question: str, answer: str) -> tuple[Message, Message]:
    reply = _answered(message_send(owner=owner, conversation_id=conversation.pk, text=question), answer)
    assert reply.parent is not None
    return reply.parent, reply


def _shown(conversation: Conversation) -> list[str]:
    return [message.content for message in conversation_thread(conversation=conversation)]


@pytest.fixture
def model(tiny_models: dict[str, Path]) -> Any:
    return chat_model_add(tiny_models["llama3"])


@pytest.mark.django_db
def test_regenerating_keeps_the_old_answer_as_a_version(alice: Any, model: Any) -> None:
    conversation = conversation_create(owner=alice)
    question, first = _turn(alice, conversation, "What colour is the sky?", "Blue, on a clear day.")

    second = message_regenerate(owner=alice, message_id=first.pk)
    first.refresh_from_db()
    assert first.content == "Blue, on a clear day."  # kept, not overwritten
    assert first.state == Message.State.COMPLETE
    assert second.pk != first.pk
    assert second.parent_id == question.pk
    assert second.state == Message.State.QUEUED
    assert [m.pk for m in conversation_thread(conversation=conversation)] == [question.pk, second.pk]
    with pytest.raises(ChatError, match="still being written"):
        message_regenerate(owner=alice, message_id=second.pk)

    _answered(second, "Grey, today.")
    payload = message_payload(second)
    assert (payload["version"], payload["version_count"], payload["version_ids"]) == (2, 2, [first.pk, second.pk])
    assert _shown(conversation) == ["What colour is the sky?", "Grey, today."]

    message_version_choose(owner=alice, message_id=first.pk)
    assert _shown(conversation) == ["What colour is the sky?", "Blue, on a clear day."]
    shown = thread_payloads(conversation=conversation)
    assert [(p["id"], p["version"], p["version_count"]) for p in shown] == [(question.pk, 1, 1), (first.pk, 1, 2)]

    # A new question follows the version shown, and the choice is kept: the page opens on it.
    _, later = _turn(alice, conversation, "And at night?", "Dark.")
    assert later.parent is not None
    assert later.parent.parent_id == first.pk
    assert _shown(conversation) == ["What colour is the sky?", "Blue, on a clear day.", "And at night?", "Dark."]


@pytest.mark.django_db
def test_editing_a_message_makes_a_new_branch_and_keeps_the_old_one(alice: Any, model: Any, client: Client) -> None:
    conversation = conversation_create(owner=alice)
    first_question, _ = _turn(alice, conversation, "Name a fruit.", "An apple.")
    _turn(alice, conversation, "Another one?", "A pear.")
    old_branch = _shown(conversation)

    answer = message_edit(owner=alice, message_id=first_question.pk, text="  Name a vegetable.  ")
    edited = answer.parent
    assert edited is not None
    assert edited.parent_id is None  # a version of the first message
    assert edited.content == "Name a vegetable."
    assert [m.pk for m in conversation_thread(conversation=conversation)] == [edited.pk, answer.pk]
    payload = message_payload(edited)
    assert (payload["version"], payload["version_count"]) == (2, 2)
    with pytest.raises(ChatError, match="still being written"):
        message_edit(owner=alice, message_id=edited.pk, text="Name a herb.")
    with pytest.raises(ChatError, match="still being written"):
        message_version_choose(owner=alice, message_id=first_question.pk)
    _answered(answer, "A carrot.")
    assert _shown(conversation) == ["Name a vegetable.", "A carrot."]
    with pytest.raises(ChatError, match="Type the new text"):
        message_edit(owner=alice, message_id=edited.pk, text="   ")

    # The old branch is whole, one arrow away; choosing it again shows the edit's branch no more.
    message_version_choose(owner=alice, message_id=first_question.pk)
    assert _shown(conversation) == old_branch
    message_version_choose(owner=alice, message_id=edited.pk)
    assert _shown(conversation) == ["Name a vegetable.", "A carrot."]

    # A search result opens the conversation on the branch the message found is on.
    client.force_login(alice)
    last_answer = Message.objects.get(conversation=conversation, content="A pear.")
    assert client.get(f"/chat/{conversation.pk}/?show={last_answer.pk}").status_code == 200
    assert _shown(conversation) == old_branch
    assert f"?show={last_answer.pk}#m{last_answer.pk}" in client.get("/chat/search/?q=pear").content.decode()


@pytest.mark.django_db
def test_an_answer_is_written_from_its_own_branch_only(alice: Any, model: Any) -> None:
    conversation = conversation_create(owner=alice)
    _turn(alice, conversation, "I have a pet.", "Nice!")
    cats, _ = _turn(alice, conversation, "Tell me about cats.", "Cats purr.")
    dogs_answer = message_edit(owner=alice, message_id=cats.pk, text="Tell me about dogs.")

    history = [message.content for message in _history(dogs_answer.ancestors())]
    assert history == ["I have a pet.", "Nice!", "Tell me about dogs."]
    assert _question(dogs_answer.ancestors()) == "Tell me about dogs."

    # Regenerating the older answer writes it from its own branch, not from the newer versions.
    _answered(dogs_answer, "Dogs bark.")
    cats_answer = Message.objects.get(conversation=conversation, content="Cats purr.")
    again = message_regenerate(owner=alice, message_id=cats_answer.pk)
    history = [message.content for message in _history(again.ancestors())]
    assert history == ["I have a pet.", "Nice!", "Tell me about cats."]
    assert _question(again.ancestors()) == "Tell me about cats."


@pytest.mark.django_db
def test_a_linear_conversation_from_before_versions_becomes_a_chain(alice: Any, bob: Any) -> None:
    migration = importlib.import_module("assistant.migrations.0009_versions_message_tree")
    conversations = [conversation_create(owner=alice), conversation_create(owner=bob)]
    texts = ["one", "two", "three", "four"]
    for text in texts:  # interleaved, as two members chatting at the same time would write them
        for conversation in conversations:
            Message.objects.create(conversation=conversation, parent=None, role="user", content=text)
    assert Message.objects.filter(parent__isnull=False).count() == 0  # as rows were before the migration

    migration.link_linear_conversations(apps, None)

    for conversation in conversations:
        rows = list(conversation.messages.order_by("pk"))
        assert [row.parent_id for row in rows] == [None, *(row.pk for row in rows[:-1])]
        assert _shown(conversation) == texts
        assert {(p["version"], p["version_count"]) for p in thread_payloads(conversation=conversation)} == {(1, 1)}


@pytest.mark.django_db
def test_another_member_cannot_see_choose_or_edit_versions(alice: Any, bob: Any, model: Any, client: Client) -> None:
    conversation = conversation_create(owner=alice)
    question, answer = _turn(alice, conversation, "A secret question.", "A secret answer.")
    before = list(Message.objects.values_list("pk", "content", "chosen"))

    for attempt in (
        lambda: message_version_choose(owner=bob, message_id=question.pk),
        lambda: message_edit(owner=bob, message_id=question.pk, text="Bob was here."),
        lambda: message_regenerate(owner=bob, message_id=answer.pk),
    ):
        with pytest.raises(ChatError, match="not yours"):
            attempt()
    client.force_login(bob)
    assert client.get(f"/chat/{conversation.pk}/?show={question.pk}").status_code == 404
    assert list(Message.objects.values_list("pk", "content", "chosen")) == before


async def _until(socket: Any, kind: str, *, timeout: float = 60) -> dict[str, Any]:
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        if event["type"] == kind:
            return event
        if event["type"] == "error":
            pytest.fail(event["error"])


async def _until_final(socket: Any) -> dict[str, Any]:
    while True:
        event = await _until(socket, "chat.message")
        message = event["message"]
        if message["role"] == "assistant" and message["state"] in FINAL:
            return message


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_versions_over_the_websocket_with_the_real_worker(
    worker: WorkerProcess, alice: Any, bob: Any, tiny_models: dict[str, Path]
) -> None:
    await database_sync_to_async(chat_model_add)(tiny_models["llama3"])
    conversation = await database_sync_to_async(conversation_create)(owner=alice)
    socket = await ws_open(await database_sync_to_async(session_cookie)(alice))
    assert (await socket.connect())[0]
    await socket.send_json_to({"action": "chat.send", "conversation": conversation.pk, "text": "Hello there"})
    first = await _until_final(socket)

    await socket.send_json_to({"action": "chat.regenerate", "message": first["id"]})
    # The page hears of the new path before any word of the new answer.
    thread = (await _until(socket, "chat.thread"))["messages"]
    second = thread[-1]
    assert (second["version"], second["version_count"], second["version_ids"]) == (2, 2, [first["id"], second["id"]])
    assert second["state"] == "queued"
    written = await _until_final(socket)
    assert (written["id"], written["state"], written["version"]) == (second["id"], "complete", 2)

    await socket.send_json_to({"action": "chat.version", "message": first["id"]})
    shown = (await _until(socket, "chat.thread"))["messages"]
    assert [(m["id"], m["version"], m["version_count"]) for m in shown] == [
        (thread[0]["id"], 1, 1),
        (first["id"], 1, 2),
    ]
    assert shown[-1]["content"] == first["content"]

    # While an answer is being written (here, in another chat), an edit is refused and says why.
    other = await database_sync_to_async(conversation_create)(owner=alice)
    waiting = await database_sync_to_async(Message.objects.create)(conversation=other, role="assistant", state="queued")
    await socket.send_json_to({"action": "chat.edit", "message": thread[0]["id"], "text": "Hi"})
    refused = await socket.receive_json_from(timeout=10)
    while refused["type"] != "error":
        refused = await socket.receive_json_from(timeout=10)
    assert (refused["action"], "still being written" in refused["error"]) == ("chat.edit", True)
    await database_sync_to_async(Message.objects.filter(pk=waiting.pk).update)(state="failed")

    bobs = await ws_open(await database_sync_to_async(session_cookie)(bob))
    assert (await bobs.connect())[0]
    attempts = [
        {"action": "chat.version", "message": second["id"]},
        {"action": "chat.edit", "message": thread[0]["id"], "text": "Bob was here."},
        {"action": "chat.regenerate", "message": second["id"]},
    ]
    for attempt in attempts:
        await bobs.send_json_to(attempt)
        reply = await bobs.receive_json_from(timeout=5)
        assert (reply["type"], reply["action"]) == ("error", attempt["action"])
        assert "not yours" in reply["error"]
    await bobs.disconnect()
    await socket.disconnect()
    shown_now = await database_sync_to_async(lambda: [m.pk for m in conversation_thread(conversation=conversation)])()
    assert shown_now == [thread[0]["id"], first["id"]]
