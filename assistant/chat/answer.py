"""Writing an answer, in the llm worker: build the prompt, stream tokens, keep the text safe."""

from __future__ import annotations

import base64
import logging
import mimetypes
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from assistant.chat.photo_answer import photo_answer_prepare
from assistant.chat.prompt import (
    DEFAULT_IMAGE_TOKENS,
    PromptPlan,
    PromptTooLong,
    merged_turns,
    prompt_plan,
    without_system,
)
from assistant.chat.retrieval import Retrieval, Source, answer_passages, sources_payload
from assistant.chat.services import (
    ChatError,
    answer_finish_without_model,
    chat_model_for,
    chat_queue_publish,
    message_publish,
    utf16_length,
)
from assistant.chat.stop import StopSignal
from assistant.core.events import event_pump
from assistant.jobs.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed
from assistant.llm.engine import ChatEngine, ModelSpec, StreamStats, chat_engine
from assistant.llm.sampling import conversation_sampling
from assistant.models import Conversation, LocalModel, Message

log = logging.getLogger(__name__)

# How often the growing answer is written to the database, so a crash loses at most this much.
SAVE_EVERY_SECONDS = 0.5
# The longest the model waits for its first words to be handed to the channel layer.
FIRST_WORDS_FLUSH_SECONDS = 0.05


def _image_part(path: str) -> dict[str, Any]:
    mime = mimetypes.guess_type(path)[0] or "image/jpeg"
    data = base64.b64encode((settings.DATA_DIR / path).read_bytes()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def _history(earlier: list[Message]) -> list[Message]:
    """What the model is shown of the messages before an answer (its own branch, Message.ancestors)."""
    return [m for m in earlier if m.role == Message.Role.USER or (m.content and m.state != Message.State.FAILED)]


class _AnswerWriter:
    """Streams tokens to the member's pages and saves the text as it grows."""

    def __init__(self, answer: Message, start: str = "") -> None:
        self.answer = answer
        self.owner_id = answer.conversation.owner_id
        self.start = start  # a continued answer's text so far: the new tokens follow it
        self.text = start
        self.offset = utf16_length(start)  # where the next piece goes, as the page counts (kept, not recounted)
        self.saved_at = time.monotonic()

    def add(self, piece: str) -> None:
        event = {
            "type": "chat.token",
            "message": self.answer.pk,
            "conversation": self.answer.conversation_id,
            "offset": self.offset,
            "text": piece,
        }
        first = self.text == self.start
        self.text += piece
        self.offset += utf16_length(piece)
        event_pump.publish(user_id=self.owner_id, event=event)
        if first:
            # The first words go out before the model writes on: handed over now, while llama.cpp's
            # threads wait, they reach Redis in a few ms instead of competing with those threads for a core.
            event_pump.flush(FIRST_WORDS_FLUSH_SECONDS)
        if time.monotonic() - self.saved_at > SAVE_EVERY_SECONDS:
            Message.objects.filter(pk=self.answer.pk).update(content=self.text)
            self.saved_at = time.monotonic()

    def finish(self, *, state: str, stats: StreamStats, notice: str = "", error: str = "") -> None:
        event_pump.hurry()  # the last tokens go out now, while the row is written
        Message.objects.filter(pk=self.answer.pk).update(
            content=self.text,
            state=state,
            notice=notice,
            error=error,
            token_limit=stats.completion_tokens if stats.finish_reason == "length" else 0,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            context_size=stats.context_size,
            tokens_per_second=stats.tokens_per_second,
        )
        self.answer.refresh_from_db()
        message_publish(self.answer)
        event_pump.flush()
        Conversation.objects.filter(pk=self.answer.conversation_id).update(updated_at=timezone.now())


def _context_filled(stats: StreamStats, max_tokens: int) -> str:
    """When the model's context, not the answer's max tokens, cut the answer: say so (Continue cannot help),
    and record it as such, so the page does not offer to continue."""
    if stats.finish_reason != "length" or stats.completion_tokens >= max_tokens:
        return ""
    if stats.prompt_tokens + stats.completion_tokens < stats.context_size - 1:
        return ""
    stats.finish_reason = "context"
    return f"The conversation now fills the model's {stats.context_size:,}-token context: start a new chat to go on."


def _set_state(answer: Message, state: str, *, hold: bool = False, **fields: str | list[Any]) -> None:
    """Write the answer's state (and plain `fields`) and tell the pages. The instance takes the same values
    instead of being read back: a reload would also drop its conversation and model, read again later."""
    Message.objects.filter(pk=answer.pk).update(state=state, **fields)
    for name, value in {"state": state, **fields}.items():
        setattr(answer, name, value)
    message_publish(answer, hold=hold)


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


def _spec_for(model: LocalModel) -> ModelSpec:
    projector = model.projector
    return ModelSpec(
        path=model.path,
        projector_path=projector.path if projector else "",
        vision_handler=_handler_for(model) if projector else "",
        context_length=model.context_length,
    )


def _context_size(model: LocalModel) -> int:
    return min(settings.HEARTH_LLM_CONTEXT, model.context_length or settings.HEARTH_LLM_CONTEXT)


def _plan(
    engine: ChatEngine,
    spec: ModelSpec,
    model: LocalModel,
    answer: Message,
    passages: Sequence[Source] = (),
    images: Sequence[Any] = (),
    *,
    earlier: list[Message],
    max_tokens: int,
    partial: str = "",
) -> PromptPlan:
    """The prompt from the messages `earlier` on the answer's branch; `partial` is the text of an answer
    being continued, the last turn of the plan."""
    turns = merged_turns(_history(earlier))
    if images and turns:  # a photo from the member's library, for the question it answers
        turns[-1]["images"] = [*turns[-1]["images"], *images]
    if partial:
        turns.append({"role": "assistant", "text": partial, "images": []})
    try:
        return prompt_plan(
            turns=turns,
            system=answer.conversation.effective_system_prompt,
            passages=passages,
            context_size=_context_size(model),
            max_answer_tokens=max_tokens,
            image_tokens=(model.projector.image_tokens if model.projector else 0) or DEFAULT_IMAGE_TOKENS,
            count_tokens=lambda text: engine.count_tokens(spec, text),
            image_part=_image_part if model.projector is not None else None,
        )
    except PromptTooLong as exc:
        raise JobFailed(str(exc)) from exc


def _question(earlier: list[Message]) -> str:
    """What the member sent just before this answer: the documents are searched for it (a photo alone: none)."""
    question = next((m for m in reversed(earlier) if m.role == Message.Role.USER), None)
    return question.content if question else ""


def _answer_not_found(answer: Message, retrieval: Retrieval) -> str:
    """No passage cleared the bar: say so, without asking the model to guess."""
    answer_finish_without_model(answer=answer, text=retrieval.not_found_text, sources=[])
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
    # Continue (an answer that stopped at its token limit): the text so far is kept and the model extends it.
    partial = answer.content if context.job.payload.get("continue") else ""
    question = _question(earlier := answer.ancestors())  # read once: the prompt is planned from them too
    photos = None if partial else photo_answer_prepare(answer=answer, question=question, model=model)
    if photos is not None and photos.finished:
        return photos.summary
    retrieval = answer_passages(conversation=answer.conversation, question=question) if photos is None else None
    if retrieval is not None and not retrieval.passages and retrieval.strict and not partial:
        return _answer_not_found(answer, retrieval)
    unused = retrieval.unused_text if retrieval is not None and not retrieval.passages else ""
    engine, spec = chat_engine(), _spec_for(model)
    sampling, max_tokens = conversation_sampling(
        conversation=answer.conversation, model=model, context_size=_context_size(model)
    )
    passages, images = (retrieval.passages if retrieval else ()), (photos.images if photos else ())
    plan = _plan(engine, spec, model, answer, passages, images, earlier=earlier, max_tokens=max_tokens, partial=partial)
    if partial:
        plan.messages.pop()  # the answer so far goes to the engine as the start of the model's turn
    sources = sources_payload(plan.passages) + (photos.sources if photos else [])
    _set_state(answer, Message.State.STREAMING, hold=True, model_name=model.name, sources=sources)
    writer, stats = _AnswerWriter(answer, start=partial), StreamStats()

    def should_stop() -> bool:
        return stop.is_set() or context.stop.is_set()

    request = {"spec": spec, "messages": plan.messages, "max_tokens": plan.max_tokens, "stats": stats}
    try:
        with StopSignal(answer.pk) as stop:
            _stream_into(
                writer, engine, {**request, "should_stop": should_stop, "sampling": sampling, "prefix": partial}
            )
    except Exception as exc:
        writer.finish(state=Message.State.FAILED, stats=stats, error=f"The model failed: {exc}")
        raise JobFailed(f"The model failed: {exc}") from exc
    stopped = stats.finish_reason == "stopped"
    notice = " ".join(part for part in (unused, plan.notice, _context_filled(stats, plan.max_tokens)) if part)[:300]
    writer.finish(state=Message.State.INCOMPLETE if stopped else Message.State.COMPLETE, stats=stats, notice=notice)
    engine.state_keep(answered=None if stopped else [*plan.messages, {"role": "assistant", "content": writer.text}])
    if stopped:
        raise JobCancelled
    return f"{stats.completion_tokens} tokens at {stats.tokens_per_second:.1f}/s"


def _stream_into(writer: _AnswerWriter, engine: ChatEngine, request: dict[str, Any]) -> None:
    """engine.stream(**request) into the writer; a template that refuses a system turn gets it folded in."""
    messages = request["messages"]
    try:
        for piece in engine.stream(**request):
            writer.add(piece)
    except ValueError as exc:
        wrote = writer.text != writer.start
        if wrote or not messages or messages[0]["role"] != "system" or "system" not in str(exc).lower():
            raise
        for piece in engine.stream(**{**request, "messages": without_system(messages)}):
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
