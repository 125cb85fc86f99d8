"""Writing an answer, in the llm worker: build the prompt, stream tokens, keep the text safe."""

from __future__ import annotations

import base64
import logging
import mimetypes
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.utils import timezone

from assistant.events import event_pump
from assistant.llm.engine import ChatEngine, ModelSpec, StreamStats, chat_engine
from assistant.models import Conversation, LocalModel, Message
from assistant.services.chat import (
    ChatError,
    chat_model_for,
    chat_queue_publish,
    message_publish,
    stop_channel,
    stop_requested,
    utf16_length,
)
from assistant.services.document_search import Passage
from assistant.services.retrieval import Retrieval, answer_passages, context_block, sources_payload
from assistant.services.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed

log = logging.getLogger(__name__)

# How often the growing answer is written to the database, so a crash loses at most this much.
SAVE_EVERY_SECONDS = 0.5
# Tokens a message costs beyond its text (role markers, separators), and a photo when unknown.
MESSAGE_OVERHEAD_TOKENS = 8
DEFAULT_IMAGE_TOKENS = 600


def _image_part(path: str) -> dict[str, Any]:
    mime = mimetypes.guess_type(path)[0] or "image/jpeg"
    data = base64.b64encode((settings.DATA_DIR / path).read_bytes()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def _history(answer: Message) -> list[Message]:
    earlier = answer.conversation.messages.filter(pk__lt=answer.pk).prefetch_related("images")
    return [m for m in earlier if m.role == Message.Role.USER or (m.content and m.state != Message.State.FAILED)]


def _merged_turns(history: list[Message]) -> list[dict[str, Any]]:
    """One entry per turn: templates such as Mistral's and Gemma's insist that roles alternate."""
    turns: list[dict[str, Any]] = []
    for message in history:
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["text"] += "\n\n" + message.content
            turns[-1]["images"] += list(message.images.all())
        else:
            turns.append({"role": message.role, "text": message.content, "images": list(message.images.all())})
    return turns


def _system_text(system: str, passages: Sequence[Passage]) -> str:
    return "\n\n".join(part for part in (system, context_block(list(passages))) if part)


def _fit_turns(
    engine: ChatEngine,
    spec: ModelSpec,
    turns: list[dict[str, Any]],
    system: str,
    budget: int,
    image_tokens: int,
    passages: Sequence[Passage] = (),
) -> tuple[list[dict[str, Any]], int, int, int]:
    """Fit the prompt: drop the oldest turns, then the weakest passages, never the question.

    Returns the turns kept, how many turns were dropped, the cost, and how many passages were kept.
    """

    def cost(turn: dict[str, Any]) -> int:
        return engine.count_tokens(spec, turn["text"]) + MESSAGE_OVERHEAD_TOKENS + image_tokens * len(turn["images"])

    def fixed(kept: int) -> int:
        text = _system_text(system, passages[:kept])
        return engine.count_tokens(spec, text) + MESSAGE_OVERHEAD_TOKENS if text else 0

    kept = len(passages)
    costs = [cost(turn) for turn in turns]
    start = 0
    # The passages the question is answered from matter more than old turns of the conversation.
    while start < len(turns) - 1 and fixed(kept) + sum(costs[start:]) > budget:
        start += 1
    # A history must start with the member speaking.
    while start < len(turns) - 1 and turns[start]["role"] != Message.Role.USER:
        start += 1
    while kept and fixed(kept) + sum(costs[start:]) > budget:
        kept -= 1
    total = fixed(kept) + sum(costs[start:])
    if total > budget:
        raise JobFailed(
            f"Your message is too long for this model: it needs about {total} tokens and the model has {budget} "
            "for the question. Shorten it, or pick a model with a longer context."
        )
    return turns[start:], start, total, kept


def _chat_messages(turns: list[dict[str, Any]], system: str, *, with_images: bool) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for turn in turns:
        images = turn["images"] if with_images and turn is turns[-1] else []
        if images:
            content: Any = [{"type": "text", "text": turn["text"]}, *(_image_part(i.file) for i in images)]
        else:
            content = turn["text"]
        messages.append({"role": turn["role"], "content": content})
    return messages


def _without_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For templates that refuse a system role (Gemma): fold it into the first question."""
    system, first, *rest = messages
    text = first["content"] if isinstance(first["content"], str) else first["content"][0]["text"]
    merged = f"{system['content']}\n\n{text}"
    if isinstance(first["content"], str):
        return [{**first, "content": merged}, *rest]
    return [{**first, "content": [{"type": "text", "text": merged}, *first["content"][1:]]}, *rest]


class _AnswerWriter:
    """Streams tokens to the member's pages and saves the text as it grows."""

    def __init__(self, answer: Message) -> None:
        self.answer = answer
        self.owner_id = answer.conversation.owner_id
        self.text = ""
        self.saved_at = time.monotonic()

    def add(self, piece: str) -> None:
        event = {
            "type": "chat.token",
            "message": self.answer.pk,
            "conversation": self.answer.conversation_id,
            "offset": utf16_length(self.text),
            "text": piece,
        }
        self.text += piece
        event_pump.publish(user_id=self.owner_id, event=event)
        if time.monotonic() - self.saved_at > SAVE_EVERY_SECONDS:
            Message.objects.filter(pk=self.answer.pk).update(content=self.text)
            self.saved_at = time.monotonic()

    def finish(self, *, state: str, stats: StreamStats, notice: str = "", error: str = "") -> None:
        Message.objects.filter(pk=self.answer.pk).update(
            content=self.text,
            state=state,
            notice=notice,
            error=error,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            context_size=stats.context_size,
            tokens_per_second=stats.tokens_per_second,
        )
        self.answer.refresh_from_db()
        message_publish(self.answer)
        event_pump.flush()


class _StopSignal:
    """Hears a member's stop the moment it is published, without asking Redis at every token.

    A listener thread waits on the answer's stop channel; the generation loop only reads an Event.
    """

    LISTEN_SECONDS = 0.25

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self._heard = threading.Event()
        self._done = threading.Event()
        self._client = redis.Redis.from_url(settings.REDIS_URL)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._thread = threading.Thread(target=self._listen, name=f"stop-{message_id}", daemon=True)

    def __enter__(self) -> threading.Event:
        try:
            self._pubsub.subscribe(stop_channel(self.message_id))
            if stop_requested(self.message_id):  # asked for before this worker listened
                self._heard.set()
        except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
            log.warning("cannot listen for a stop of message %s", self.message_id, exc_info=True)
            self._done.set()
        self._thread.start()
        return self._heard

    def __exit__(self, *_: object) -> None:
        # Not joined: the listener notices within LISTEN_SECONDS and closes its connection itself,
        # while the answer is already being finished.
        self._done.set()

    def _listen(self) -> None:
        try:
            while not self._done.is_set():
                try:
                    message = self._pubsub.get_message(timeout=self.LISTEN_SECONDS)
                except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
                    return
                if message is not None:
                    self._heard.set()
                    return
        finally:
            self._pubsub.close()
            self._client.close()


def _set_state(answer: Message, state: str, **fields: Any) -> None:
    Message.objects.filter(pk=answer.pk).update(state=state, **fields)
    answer.refresh_from_db()
    message_publish(answer)


def _fail(answer: Message, error: str) -> None:
    """Mark an answer failed unless it already reached an end (its writer may have done so)."""
    if Message.objects.filter(pk=answer.pk, state__in=(Message.State.QUEUED, Message.State.STREAMING)).exists():
        _set_state(answer, Message.State.FAILED, error=error)


# Ends the runner handles itself: a stop, or a passing fault that puts the job back in the queue.
PASS_THROUGH: tuple[type[BaseException], ...] = (JobCancelled, *TRANSIENT_ERRORS)


def chat_answer_run(context: JobContext) -> str:
    answer = (
        Message.objects.select_related("conversation__model__projector")
        .filter(pk=context.job.payload.get("message_id"))
        .first()
    )
    if answer is None or answer.state not in (Message.State.QUEUED, Message.State.STREAMING):
        return "Nothing to write"
    try:
        return _write_answer(context, answer)
    except JobFailed as exc:
        _fail(answer, str(exc))
        raise
    except PASS_THROUGH:
        raise
    except Exception as exc:
        _fail(answer, f"The model failed: {exc}")
        raise
    finally:
        chat_queue_publish()


@dataclass
class _Plan:
    """What the model is asked: the messages that fit, how long the answer may grow, its passages."""

    messages: list[dict[str, Any]]
    max_tokens: int
    notice: str
    passages: list[Passage] = field(default_factory=list)


def _spec_for(model: LocalModel) -> ModelSpec:
    projector = model.projector
    return ModelSpec(
        path=model.path,
        projector_path=projector.path if projector else "",
        vision_handler=_handler_for(model) if projector else "",
        context_length=model.context_length,
    )


def _plan(
    engine: ChatEngine, spec: ModelSpec, model: LocalModel, answer: Message, passages: Sequence[Passage] = ()
) -> _Plan:
    system = answer.conversation.effective_system_prompt
    context_size = min(settings.HEARTH_LLM_CONTEXT, model.context_length or settings.HEARTH_LLM_CONTEXT)
    # Keep a quarter of the context (at most the longest answer) free for the answer itself.
    reserve = min(settings.HEARTH_LLM_MAX_TOKENS, context_size // 4)
    image_tokens = (model.projector.image_tokens if model.projector else 0) or DEFAULT_IMAGE_TOKENS
    turns, dropped, cost, kept = _fit_turns(
        engine, spec, _merged_turns(_history(answer)), system, context_size - reserve, image_tokens, passages
    )
    notices = []
    if dropped:
        notices.append(f"The oldest {dropped} turns were left out to fit the model's {context_size}-token context.")
    if kept < len(passages):
        notices.append(f"{len(passages) - kept} of the {len(passages)} passages found did not fit the context.")
    return _Plan(
        messages=_chat_messages(turns, _system_text(system, passages[:kept]), with_images=model.projector is not None),
        max_tokens=min(settings.HEARTH_LLM_MAX_TOKENS, max(16, context_size - cost - 16)),
        notice=" ".join(notices),
        passages=list(passages[:kept]),
    )


def _question(answer: Message) -> str:
    """What the member sent just before this answer: the documents are searched for it (a photo alone: none)."""
    question = answer.conversation.messages.filter(pk__lt=answer.pk, role=Message.Role.USER).last()
    return question.content if question else ""


def _retrieve(answer: Message) -> Retrieval | None:
    return answer_passages(conversation=answer.conversation, question=_question(answer))


def _answer_not_found(answer: Message, retrieval: Retrieval) -> str:
    """No passage cleared the bar: say so, without asking the model to guess."""
    Message.objects.filter(pk=answer.pk).update(
        content=retrieval.not_found_text,
        state=Message.State.COMPLETE,
        sources=[],
        notice="",
        error="",
        prompt_tokens=0,
        completion_tokens=0,
        tokens_per_second=0.0,
    )
    answer.refresh_from_db()
    message_publish(answer)
    event_pump.flush()
    Conversation.objects.filter(pk=answer.conversation_id).update(updated_at=timezone.now())
    return "Nothing found in the documents"


def _write_answer(context: JobContext, answer: Message) -> str:
    if answer.state == Message.State.STREAMING:
        # A worker died while writing this answer: keep what it wrote rather than start over.
        _set_state(answer, Message.State.INCOMPLETE, notice="The model stopped while writing this answer.")
        return "Kept the partial answer"
    try:
        model = chat_model_for(answer.conversation)
    except ChatError as exc:
        raise JobFailed(str(exc)) from exc
    retrieval = _retrieve(answer)
    if retrieval is not None and not retrieval.passages:
        return _answer_not_found(answer, retrieval)
    engine, spec = chat_engine(), _spec_for(model)
    plan = _plan(engine, spec, model, answer, retrieval.passages if retrieval else ())
    _set_state(answer, Message.State.STREAMING, model_name=model.name, sources=sources_payload(plan.passages))
    writer, stats = _AnswerWriter(answer), StreamStats()

    def should_stop() -> bool:
        return stop.is_set() or context.stop.is_set()

    try:
        with _StopSignal(answer.pk) as stop:
            _stream_into(writer, engine, spec, plan.messages, plan.max_tokens, should_stop, stats)
    except Exception as exc:
        writer.finish(state=Message.State.FAILED, stats=stats, error=f"The model failed: {exc}")
        raise JobFailed(f"The model failed: {exc}") from exc
    stopped = stats.finish_reason == "stopped"
    writer.finish(
        state=Message.State.INCOMPLETE if stopped else Message.State.COMPLETE, stats=stats, notice=plan.notice
    )
    Conversation.objects.filter(pk=answer.conversation_id).update(updated_at=timezone.now())
    if stopped:
        raise JobCancelled
    return f"{stats.completion_tokens} tokens at {stats.tokens_per_second:.1f}/s"


def _stream_into(
    writer: _AnswerWriter,
    engine: ChatEngine,
    spec: ModelSpec,
    messages: list[dict[str, Any]],
    max_tokens: int,
    should_stop: Any,
    stats: StreamStats,
) -> None:
    try:
        for piece in engine.stream(
            spec=spec, messages=messages, max_tokens=max_tokens, should_stop=should_stop, stats=stats
        ):
            writer.add(piece)
    except ValueError as exc:
        if writer.text or not messages or messages[0]["role"] != "system" or "system" not in str(exc).lower():
            raise
        for piece in engine.stream(
            spec=spec, messages=_without_system(messages), max_tokens=max_tokens, should_stop=should_stop, stats=stats
        ):
            writer.add(piece)


def _handler_for(model: Any) -> str:
    from assistant.llm.vision import vision_handler_name

    projector = model.projector
    return vision_handler_name(
        projector_type=projector.projector_type,
        architecture=model.architecture,
        model_name=model.name,
        grid_pinpoints=projector.grid_pinpoints,
    )
