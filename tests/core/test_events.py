"""Events reach the pages through the per-process pump; an answer's last words are not held back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from assistant.core import events
from assistant.core.events import event_pump, user_group

MEMBER = 424242


def _token(text: str) -> dict[str, Any]:
    return {"type": "chat.token", "message": 7, "conversation": 3, "offset": 0, "text": text}


async def _events_of_an_answer(*, flushed: list[bool]) -> list[dict[str, Any]]:
    """Listen as a page does, publish an answer's tokens and its final message, and read them back."""
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(user_group(MEMBER), channel)
    try:
        event_pump.publish(user_id=MEMBER, event=_token("Once"))
        received = (await asyncio.wait_for(layer.receive(channel), 10))["events"]  # the first goes at once
        # The pump now pauses to gather the next tokens; the answer ends within that pause.
        for text in (" upon", " a time"):
            event_pump.publish(user_id=MEMBER, event=_token(text))
        event_pump.publish(user_id=MEMBER, event={"type": "chat.message", "message": {"id": 7}})
        flushed.append(await asyncio.to_thread(event_pump.flush, 10))
        while received[-1]["type"] == "chat.token":  # runs of tokens are merged: one send or a few
            received += (await asyncio.wait_for(layer.receive(channel), 10))["events"]
        return received
    finally:
        await layer.group_discard(user_group(MEMBER), channel)
        event_pump.flush()  # out of the long pause the test set, before other tests publish


def test_the_end_of_an_answer_sends_its_last_tokens_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pause between token sends far longer than the flush allows: only hurrying delivers the last tokens.
    monkeypatch.setattr(events, "TOKEN_INTERVAL_SECONDS", 120.0)
    flushed: list[bool] = []
    received = async_to_sync(_events_of_an_answer)(flushed=flushed)
    assert flushed == [True]
    assert "".join(event["text"] for event in received[:-1]) == "Once upon a time"
    assert received[-1] == {"type": "chat.message", "message": {"id": 7}}


async def _receive(layer: Any, channel: str, timeout: float = 10) -> list[dict[str, Any]]:
    return list((await asyncio.wait_for(layer.receive(channel), timeout))["events"])


async def _held_events(*, then: dict[str, Any] | None, flush: bool) -> tuple[bool, list[dict[str, Any]]]:
    """Publish a held event, then perhaps another, perhaps flush. (Whether the held event came before
    anything followed it, what arrived.)"""
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(user_group(MEMBER), channel)
    try:
        writing = {"type": "chat.message", "message": {"id": 7, "state": "streaming"}}
        event_pump.publish(user_id=MEMBER, event=writing, hold=True)
        try:
            early = await _receive(layer, channel, timeout=0.5)
        except TimeoutError:
            early = []
        if then is not None:
            event_pump.publish(user_id=MEMBER, event=then)
        if flush:
            await asyncio.to_thread(event_pump.flush, 10)
        return bool(early), early or await _receive(layer, channel)
    finally:
        await layer.group_discard(user_group(MEMBER), channel)
        await asyncio.to_thread(event_pump.flush, 10)


def test_a_held_event_goes_out_with_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer's "writing" waits for its first words, and the page gets both, in order, in one message."""
    monkeypatch.setattr(events, "HOLD_SECONDS", 120.0)
    early, received = async_to_sync(_held_events)(then=_token("Once"), flush=False)
    assert not early
    assert [event["type"] for event in received] == ["chat.message", "chat.token"]


def test_a_held_event_goes_out_alone_when_nothing_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long prompt: "writing" reaches the page after its hold, before any word."""
    monkeypatch.setattr(events, "HOLD_SECONDS", 0.6)
    _, received = async_to_sync(_held_events)(then=None, flush=False)
    assert [event["type"] for event in received] == ["chat.message"]


def test_a_flush_sends_a_held_event_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "HOLD_SECONDS", 120.0)
    _, received = async_to_sync(_held_events)(then=None, flush=True)
    assert [event["type"] for event in received] == ["chat.message"]
