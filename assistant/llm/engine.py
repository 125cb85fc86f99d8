"""The chat capability: one llama.cpp model loaded per worker process, kept warm, streamed from.

The llm queue's worker runs one task at a time, so one model is resident; asking for another
model closes the first. A model idle for HEARTH_LLM_IDLE_SECONDS is unloaded to free memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from assistant.llm.llama_adapter import evaluated_tokens, is_end_of_generation, token_text
from assistant.llm.prompt_reuse import WORTH_KEEPING_TOKENS, conversation_keep, conversation_switch, next_turn_read
from assistant.llm.sampling import Sampling

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    path: str
    projector_path: str = ""
    vision_handler: str = ""
    context_length: int = 0  # what the model was trained for; 0 when unknown


@dataclass
class StreamStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    context_size: int = 0
    dropped_messages: int = 0
    first_token_seconds: float = 0.0
    seconds: float = 0.0
    finish_reason: str = ""

    @property
    def tokens_per_second(self) -> float:
        generating = self.seconds - self.first_token_seconds
        return (self.completion_tokens - 1) / generating if self.completion_tokens > 1 and generating > 0 else 0.0


@dataclass
class _Loaded:
    spec: ModelSpec
    llama: Any
    context_size: int
    # The model's own chat template from its GGUF; None for vision handlers and template-less files.
    formatter: Any = None
    last_used: float = field(default_factory=time.monotonic)


class ContextTooSmall(ValueError):
    """The prompt alone fills the model's context."""


class _TokenWatch:
    """A logits processor that counts sampled tokens (it runs once per token) and ends the answer when
    should_stop() says so, by leaving the end-of-generation token the only choice.

    llama-cpp-python's streaming completion holds text back (an unfinished character, the start of a
    stop string) and may yield nothing for many tokens; this hears a stop at every token regardless.
    """

    def __init__(self, should_stop: Callable[[], bool], end_token: int) -> None:
        self.should_stop = should_stop
        self.end_token = end_token
        self.prompt_tokens = 0
        self.sampled = 0
        self.stopped = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.sampled == 0:
            self.prompt_tokens = len(input_ids)
        self.sampled += 1
        if self.stopped or self.should_stop():
            self.stopped = True
            scores[:] = -float("inf")
            scores[self.end_token] = 0.0
        return scores


class ChatEngine:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaded: _Loaded | None = None
        self._reaper: threading.Thread | None = None

    def _load(self, spec: ModelSpec) -> _Loaded:
        with self._lock:
            if self._loaded and self._loaded.spec == spec:
                self._loaded.last_used = time.monotonic()
                return self._loaded
            self.unload()
            from llama_cpp import Llama
            from llama_cpp.llama_cache import LlamaRAMCache

            from assistant.llm.vision import vision_handler_create

            context = settings.HEARTH_LLM_CONTEXT
            if spec.context_length:
                context = min(context, spec.context_length)
            handler = None
            if spec.projector_path:
                handler = vision_handler_create(name=spec.vision_handler, projector_path=spec.projector_path)
            started = time.monotonic()
            llama = Llama(
                model_path=spec.path,
                n_ctx=context,
                n_threads=settings.HEARTH_LLM_THREADS or os.cpu_count(),
                chat_handler=handler,
                verbose=False,
            )
            if handler is None:
                # Keeps the state of recent conversations, so a turn resumes from its prefix.
                llama.set_cache(LlamaRAMCache(capacity_bytes=settings.HEARTH_LLM_CACHE_MB * 1024 * 1024))
            log.info("loaded %s (context %d) in %.1fs", spec.path, context, time.monotonic() - started)
            formatter = None if handler else _template_formatter(llama)
            self._loaded = _Loaded(spec=spec, llama=llama, context_size=context, formatter=formatter)
            self._start_reaper()
            return self._loaded

    def unload(self) -> None:
        with self._lock:
            if self._loaded is not None:
                self._loaded.llama.close()
                log.info("unloaded %s", self._loaded.spec.path)
                self._loaded = None

    def _start_reaper(self) -> None:
        if self._reaper is not None:
            return

        def reap() -> None:
            while True:
                time.sleep(min(30.0, settings.HEARTH_LLM_IDLE_SECONDS))
                with self._lock:
                    idle = self._loaded and time.monotonic() - self._loaded.last_used > settings.HEARTH_LLM_IDLE_SECONDS
                    if idle:
                        self.unload()

        self._reaper = threading.Thread(target=reap, name="llm-idle-unloader", daemon=True)
        self._reaper.start()

    def count_tokens(self, spec: ModelSpec, text: str) -> int:
        return len(self._load(spec).llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self,
        *,
        spec: ModelSpec,
        messages: list[dict[str, Any]],
        max_tokens: int,
        should_stop: Callable[[], bool],
        stats: StreamStats,
        sampling: Sampling | None = None,
        prefix: str = "",
    ) -> Iterator[str]:
        """Yield the answer piece by piece; stops before the next token once should_stop() is true (also
        while text is held back: an unfinished character or the start of a stop string).

        `sampling` is what llama.cpp samples with (Hearth's defaults when None). `prefix` is the start of
        the answer, already written: the model continues it (stats.finish_reason "length" at max_tokens)."""
        sampling = sampling or Sampling()
        with self._lock:
            loaded = self._load(spec)
            started = time.monotonic()
            stats.context_size = loaded.context_size
            generation = _Generation(max_tokens, sampling, should_stop, prefix)
            generate = _generate_from_template if loaded.formatter is not None else _generate_through_handler
            pieces = generate(loaded, messages, generation, stats)
            try:
                for piece in pieces:
                    if piece:
                        if not stats.first_token_seconds:
                            stats.first_token_seconds = time.monotonic() - started
                        yield piece
                    if should_stop():
                        stats.finish_reason = "stopped"
                        break
            finally:
                pieces.close()
                stats.seconds = time.monotonic() - started
                loaded.last_used = time.monotonic()

    def state_keep(self, *, answered: list[dict[str, Any]] | None = None) -> None:
        """Save the conversation just answered now, while the member reads the answer: a question in another
        conversation then starts without this copy before its first token. (Repeated: no copy.)

        `answered`: the messages the answer was written from, and the answer itself last. The template's
        start of the member's next turn is read first, so a follow-up question reads only its own words."""
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.llama.cache is None:
                return
            if answered and loaded.formatter is not None:
                next_turn_read(
                    loaded.llama, formatter=loaded.formatter, context_size=loaded.context_size, answered=answered
                )
            current = tuple(evaluated_tokens(loaded.llama))
            if len(current) >= WORTH_KEEPING_TOKENS:
                conversation_keep(loaded.llama, current)


def _template_formatter(llama: Any) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama, eos),
        bos_token=token_text(llama, bos),
        stop_token_ids=[eos],
    )


def _held_back(text: str, stops: list[str]) -> int:
    """How many trailing characters could be the start of a stop string, and must wait."""
    return max((n for stop in stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0)


@dataclass(frozen=True)
class _Generation:
    """What one answer is generated with; the stop is heard by ChatEngine.stream between pieces too."""

    max_tokens: int
    sampling: Sampling
    should_stop: Callable[[], bool]
    prefix: str = ""


def _generate_from_template(
    loaded: _Loaded, messages: list[dict[str, Any]], generation: _Generation, stats: StreamStats
) -> Generator[str, None, None]:
    """Render the GGUF's own template and sample token by token, decoding each token once.

    llama-cpp-python's streaming completion re-decodes the whole answer at every token, which
    grows with the square of the answer's length; this loop stays linear.
    """
    import codecs

    llama = loaded.llama
    rendered = loaded.formatter(messages=messages)
    # A continued answer: its text so far follows the assistant's turn marker, and the model goes on from there.
    text = rendered.prompt + generation.prefix
    prompt = llama.tokenize(text.encode("utf-8"), add_bos=not rendered.added_special, special=True)
    if len(prompt) >= loaded.context_size:
        raise ContextTooSmall(f"The prompt needs {len(prompt)} tokens; the context holds {loaded.context_size}.")
    stats.prompt_tokens = len(prompt)
    budget = min(generation.max_tokens, loaded.context_size - len(prompt))
    stops = [stop for stop in ([rendered.stop] if isinstance(rendered.stop, str) else rendered.stop or []) if stop]
    conversation_switch(llama, prompt)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    completion: list[int] = []
    pending = ""
    stats.finish_reason = "stop"  # unless the budget runs out: "length"
    sampling = generation.sampling.generate_kwargs()
    # No stopping_criteria: the end-of-generation check below covers the template's stop token, once per token.
    for token in llama.generate(prompt, **sampling):
        if is_end_of_generation(llama, token):
            break
        completion.append(token)
        stats.completion_tokens = len(completion)
        pending += decoder.decode(llama.detokenize([token]))
        cut = min((i for i in (pending.find(stop) for stop in stops) if i >= 0), default=-1)
        if cut >= 0:
            pending = pending[:cut]
            break
        ready = max(0, len(pending) - _held_back(pending, stops))
        yield pending[:ready]  # empty while text is held back: the caller still hears a stop at every token
        pending = pending[ready:]
        if len(completion) >= budget:
            stats.finish_reason = "length"
            break
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


# A chat handler cannot start the assistant's turn with text of its own: a continued answer is asked for.
CONTINUE_REQUEST = "Continue your last answer exactly where it stopped, without repeating any of it."


def _generate_through_handler(
    loaded: _Loaded, messages: list[dict[str, Any]], generation: _Generation, stats: StreamStats
) -> Generator[str, None, None]:
    """Vision models (and files without a template) go through llama-cpp-python's chat handler."""
    from llama_cpp import LogitsProcessorList

    if generation.prefix:
        asked = [{"role": "assistant", "content": generation.prefix}, {"role": "user", "content": CONTINUE_REQUEST}]
        messages = [*messages, *asked]
    watch = _TokenWatch(generation.should_stop, loaded.llama.token_eos())
    chunks = loaded.llama.create_chat_completion(
        messages=messages,
        max_tokens=generation.max_tokens,
        stream=True,
        logits_processor=LogitsProcessorList([watch]),
        **generation.sampling.completion_kwargs(),
    )
    try:
        for chunk in chunks:
            choice = chunk["choices"][0]
            stats.finish_reason = choice.get("finish_reason") or stats.finish_reason
            yield choice["delta"].get("content") or ""
    finally:
        chunks.close()
        stats.prompt_tokens = watch.prompt_tokens
        stats.completion_tokens = watch.sampled - 1 if watch.stopped else watch.sampled
        if watch.stopped:
            stats.finish_reason = "stopped"


_engine: ChatEngine | None = None


def chat_engine() -> ChatEngine:
    """The process's one engine, created on first use."""
    global _engine
    if _engine is None:
        _engine = ChatEngine()
    return _engine
