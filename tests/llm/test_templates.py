"""Each model family's own chat template, read from its GGUF, shapes the prompt; each generates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.llm.engine import ChatEngine, ModelSpec, StreamStats
from assistant.llm.gguf_info import gguf_info_read
from tests.support.tiny_gguf import CHAT_TEMPLATES, EXPECTED_MARKERS, chat_messages


@pytest.fixture(scope="module")
def engine() -> ChatEngine:
    return ChatEngine()


@pytest.mark.parametrize("family", sorted(CHAT_TEMPLATES))
def test_the_models_own_template_renders_the_expected_prompt_and_generates(
    engine: ChatEngine, tiny_models: dict[str, Path], family: str
) -> None:
    spec = ModelSpec(path=str(tiny_models[family]))
    info = gguf_info_read(path=tiny_models[family])
    assert info.chat_template == CHAT_TEMPLATES[family]

    llama = engine._load(spec).llama
    prompt = _rendered_prompt(llama, chat_messages(family=family))
    for marker in EXPECTED_MARKERS[family]:
        assert marker in prompt

    stats = StreamStats()
    pieces = list(
        engine.stream(
            spec=spec, messages=chat_messages(family=family), max_tokens=8, should_stop=lambda: False, stats=stats
        )
    )
    assert stats.completion_tokens >= len(pieces) > 0
    assert stats.prompt_tokens > 0


def test_a_mixture_of_experts_model_loads_and_generates(engine: ChatEngine, tiny_models: dict[str, Path]) -> None:
    info = gguf_info_read(path=tiny_models["moe"])
    assert info.architecture == "llama"
    stats = StreamStats()
    pieces = list(
        engine.stream(
            spec=ModelSpec(path=str(tiny_models["moe"])),
            messages=[{"role": "user", "content": "Hi"}],
            max_tokens=8,
            should_stop=lambda: False,
            stats=stats,
        )
    )
    assert pieces


def test_generation_stops_before_the_next_token_once_asked(engine: ChatEngine, tiny_models: dict[str, Path]) -> None:
    stats = StreamStats()
    received: list[str] = []
    for piece in engine.stream(
        spec=ModelSpec(path=str(tiny_models["llama3"])),
        messages=[{"role": "user", "content": "Count to a hundred"}],
        max_tokens=200,
        should_stop=lambda: len(received) >= 3,
        stats=stats,
    ):
        received.append(piece)
    assert len(received) == 3
    assert stats.completion_tokens <= 4  # at most the one token already sampled when the stop was seen
    assert stats.finish_reason == "stopped"


def _rendered_prompt(llama: Any, messages: list[dict[str, str]]) -> str:
    """The prompt the template stored in the GGUF builds for these messages."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    formatter = Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=llama.detokenize([llama.token_eos()], special=True).decode(),
        bos_token=llama.detokenize([llama.token_bos()], special=True).decode(),
    )
    return str(formatter(messages=messages).prompt)
