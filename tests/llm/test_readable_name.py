"""A model's name as the household reads it (issue 12, item 8): general.name, or the file's own careful spelling."""

from __future__ import annotations

import pytest

from assistant.llm.gguf_info import readable_name


@pytest.mark.parametrize(
    ("name", "stem", "shown"),
    [
        ("Smollm2 135M 8k Lc100K Mix1 Ep2", "SmolLM2-135M-Instruct.Q4_1", "SmolLM2 135M Instruct"),
        ("Path Tiny", "Tiny-Chat.Q4_K_M", "Path Tiny"),  # another model's words: general.name wins
        ("Tiny Chat", "tiny-chat", "Tiny Chat"),
        (
            "",
            "qwen2.5-7b-instruct-q4_k_m",
            "qwen2.5 7b instruct",
        ),  # no general.name: the file, unquantized
        ("Llama 3.2 3B Instruct", "Llama-3.2-3B-Instruct-Q4_K_M", "Llama 3.2 3B Instruct"),
    ],
)
def test_the_name_shown_is_readable(name: str, stem: str, shown: str) -> None:
    assert readable_name(name=name, stem=stem) == shown
