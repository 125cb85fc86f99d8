"""The chat capability keeps a model warm, and lets it go when nobody has used it for a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.llm.engine import ChatEngine, ModelSpec, StreamStats
from assistant.llm.llama_adapter import cache_forget_prefixes, evaluated_tokens
from assistant.llm.sampling import Sampling


def _ask(engine: ChatEngine, spec: ModelSpec, text: str) -> StreamStats:
    stats = StreamStats()
    list(
        engine.stream(
            spec=spec,
            messages=[{"role": "user", "content": text}],
            max_tokens=4,
            should_stop=lambda: False,
            stats=stats,
        )
    )
    return stats


def test_the_model_is_loaded_once_and_unloaded_when_idle(tiny_models: dict[str, Path], settings: Any) -> None:
    settings.HEARTH_LLM_IDLE_SECONDS = 1.0
    engine = ChatEngine()
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    _ask(engine, spec, "Hi")
    first = engine._loaded
    _ask(engine, spec, "Hi again")
    assert engine._loaded is first  # kept warm between answers

    deadline = time.monotonic() + 10
    while engine._loaded is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert engine._loaded is None


def test_switching_models_closes_the_first(tiny_models: dict[str, Path]) -> None:
    engine = ChatEngine()
    _ask(engine, ModelSpec(path=str(tiny_models["chatml"])), "Hi")
    first = engine._loaded
    assert first is not None
    _ask(engine, ModelSpec(path=str(tiny_models["llama3"])), "Hi")
    assert engine._loaded is not None
    assert engine._loaded is not first
    assert engine._loaded.spec.path.endswith("tiny-llama3.gguf")


def test_a_later_turn_reuses_the_earlier_turns_evaluated_prompt(tiny_models: dict[str, Path]) -> None:
    import llama_cpp

    engine = ChatEngine()
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    history = [{"role": "user", "content": "Tell me about the sea. " * 20}]
    stats = StreamStats()
    reply = "".join(engine.stream(spec=spec, messages=history, max_tokens=4, should_stop=lambda: False, stats=stats))
    # Another conversation in between: its state is set aside, and the first one's comes back.
    _ask(engine, spec, "Something unrelated entirely")
    llama = engine._loaded.llama  # type: ignore[union-attr]
    llama_cpp.llama_perf_context_reset(llama.ctx)
    follow_up = [*history, {"role": "assistant", "content": reply}, {"role": "user", "content": "And the sky?"}]
    second = StreamStats()
    greedy = Sampling(temperature=0.0)
    resumed = "".join(
        engine.stream(
            spec=spec, messages=follow_up, max_tokens=8, should_stop=lambda: False, stats=second, sampling=greedy
        )
    )
    evaluated = llama_cpp.llama_perf_context(llama.ctx).n_p_eval
    assert evaluated < second.prompt_tokens / 2
    # The resumed state writes what a model evaluating the whole prompt afresh writes.
    fresh = ChatEngine()
    afresh = "".join(
        fresh.stream(
            spec=spec, messages=follow_up, max_tokens=8, should_stop=lambda: False, stats=StreamStats(), sampling=greedy
        )
    )
    fresh.unload()
    assert resumed == afresh


def test_a_kept_conversation_is_not_copied_again_when_another_one_starts(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """state_keep saves an answered conversation while its answer is read; the next question, in another
    conversation, starts without that copy, and a later turn's state replaces its earlier turn's."""
    from assistant.llm import prompt_reuse

    engine = ChatEngine()
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    history = [{"role": "user", "content": "Tell me about the sea. " * 20}]
    reply = "".join(
        engine.stream(spec=spec, messages=history, max_tokens=4, should_stop=lambda: False, stats=StreamStats())
    )
    engine.state_keep()
    cache = engine._loaded.llama.cache  # type: ignore[union-attr]
    assert len(cache.cache_state) == 1
    saves: list[int] = []
    real_save = prompt_reuse.state_save_without_logits
    monkeypatch.setattr(prompt_reuse, "state_save_without_logits", lambda llama: saves.append(1) or real_save(llama))
    _ask(engine, spec, "Something unrelated entirely")
    assert saves == []  # the sea conversation was kept already: no copy before this answer
    follow_up = [*history, {"role": "assistant", "content": reply}, {"role": "user", "content": "And the sky? " * 10}]
    list(engine.stream(spec=spec, messages=follow_up, max_tokens=4, should_stop=lambda: False, stats=StreamStats()))
    engine.state_keep()
    keys = list(cache.cache_state)
    assert keys[-1] == tuple(evaluated_tokens(engine._loaded.llama))  # type: ignore[union-attr]
    # Nothing the second turn's state covers stays (the first turn's, when the template re-reads it alike).
    assert not [key for key in keys[:-1] if keys[-1][: len(key)] == key]
    engine.unload()


def _prompt_tokens_read(engine: ChatEngine, spec: ModelSpec, messages: list[dict[str, Any]]) -> int:
    """How many of the prompt's tokens an answer to `messages` had to read: those past what the context held."""
    from llama_cpp import Llama

    llama = engine._loaded.llama  # type: ignore[union-attr]
    held = evaluated_tokens(llama)
    list(engine.stream(spec=spec, messages=messages, max_tokens=1, should_stop=lambda: False, stats=StreamStats()))
    prompt = evaluated_tokens(llama)  # the one token sampled is never read
    return len(prompt) - int(Llama.longest_token_prefix(held, prompt))


@pytest.mark.parametrize("family", ["chatml", "llama3"])
def test_a_follow_up_question_reads_only_its_own_turn(tiny_models: dict[str, Path], family: str) -> None:
    """state_keep(answered=...) reads the template's end of the answer and start of the member's next turn
    while the answer is read; the follow-up then reads only its own words and the answer's header."""
    spec = ModelSpec(path=str(tiny_models[family]))
    history = [{"role": "user", "content": "Tell me about the sea."}]
    # The answer's text is given (continued by one token, which is never read): a random model's own words
    # may tokenize differently when read back, and then there is nothing to read ahead, rightly.
    answer = "The sea is wide and deep."
    answered = [*history, {"role": "assistant", "content": answer}]
    follow_up = [*answered, {"role": "user", "content": "And the sky?"}]
    read = {}
    for ahead in (False, True):
        engine = ChatEngine()
        list(
            engine.stream(
                spec=spec, messages=history, max_tokens=1, should_stop=lambda: False, stats=StreamStats(), prefix=answer
            )
        )
        engine.state_keep(answered=answered if ahead else None)
        read[ahead] = _prompt_tokens_read(engine, spec, follow_up)
        question = engine.count_tokens(spec, "And the sky?")
        engine.unload()
    assert read[True] < read[False]
    assert read[True] <= question + 8  # the question, its end-of-turn marks and the answer's header


def test_a_state_forgets_the_states_it_covers() -> None:
    from llama_cpp import LlamaRAMCache

    cache = LlamaRAMCache(capacity_bytes=1000)
    for key in [(1, 2), (1, 2, 3), (1, 5), (1, 2, 3, 4)]:
        cache[key] = SimpleNamespace(llama_state_size=1)
    cache_forget_prefixes(cache, (1, 2, 3, 4))
    assert list(cache.cache_state) == [(1, 5), (1, 2, 3, 4)]


def _stop_at_check(n: int) -> Callable[[], bool]:
    """A should_stop that says stop the n-th time it is asked."""
    checks = 0

    def should_stop() -> bool:
        nonlocal checks
        checks += 1
        return checks >= n

    return should_stop


def test_a_stop_is_checked_at_every_token_even_when_it_wrote_no_text(tiny_models: dict[str, Path]) -> None:
    engine = ChatEngine()
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    messages = [{"role": "user", "content": "Write a long story."}]
    stats = StreamStats()
    list(engine.stream(spec=spec, messages=messages, max_tokens=40, should_stop=_stop_at_check(5), stats=stats))
    assert stats.finish_reason == "stopped"
    assert stats.completion_tokens == 5  # one check per token, whether or not the token made text


def test_a_vision_answer_stops_at_the_next_token_even_while_llama_cpp_holds_its_text_back(
    tiny_models: dict[str, Path],
) -> None:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, "PNG")
    photo = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    spec = ModelSpec(
        path=str(tiny_models["llama3"]),
        projector_path=str(tiny_models["projector"]),
        vision_handler="Llava15ChatHandler",
    )
    content = [{"type": "image_url", "image_url": {"url": photo}}, {"type": "text", "text": "What is this?"}]
    message = {"role": "user", "content": content}
    stats = StreamStats()
    stop = _stop_at_check(20)
    list(ChatEngine().stream(spec=spec, messages=[message], max_tokens=300, should_stop=stop, stats=stats))
    assert stats.finish_reason == "stopped"
    assert stats.completion_tokens <= 20


def _written(spec: ModelSpec, sampling: Sampling, content: Any = "Tell me a story") -> tuple[str, StreamStats]:
    """An answer from a freshly loaded model (no state left by an earlier answer)."""
    stats = StreamStats()
    engine = ChatEngine()
    messages = [{"role": "user", "content": content}]
    text = "".join(
        engine.stream(
            spec=spec, messages=messages, max_tokens=12, should_stop=lambda: False, stats=stats, sampling=sampling
        )
    )
    engine.unload()
    return text, stats


@pytest.mark.parametrize("path", ["template", "handler"])
def test_the_sampling_given_reaches_llama_cpp_on_both_paths(tiny_models: dict[str, Path], path: str) -> None:
    """Greedy (temperature 0) writes the same answer twice; temperature 2 over every word writes another."""
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    if path == "handler":  # a vision model goes through llama-cpp-python's chat handler
        spec = ModelSpec(
            path=str(tiny_models["llama3"]),
            projector_path=str(tiny_models["projector"]),
            vision_handler="Llava15ChatHandler",
        )
    greedy = Sampling(temperature=0.0)
    wild = Sampling(temperature=2.0, top_p=1.0, top_k=0, min_p=0.0)
    first, stats = _written(spec, greedy)
    assert stats.finish_reason == "length"
    assert stats.completion_tokens == 12
    assert _written(spec, greedy)[0] == first
    assert _written(spec, wild)[0] != first


def test_an_answer_is_continued_from_its_own_text(tiny_models: dict[str, Path]) -> None:
    engine = ChatEngine()
    spec = ModelSpec(path=str(tiny_models["chatml"]))
    messages = [{"role": "user", "content": "Tell me a story"}]
    stats, more = StreamStats(), StreamStats()
    start = "".join(engine.stream(spec=spec, messages=messages, max_tokens=8, should_stop=lambda: False, stats=stats))
    rest = "".join(
        engine.stream(spec=spec, messages=messages, max_tokens=8, should_stop=lambda: False, stats=more, prefix=start)
    )
    assert rest
    assert more.finish_reason == "length"
    assert more.prompt_tokens > stats.prompt_tokens  # the answer so far is in the prompt
