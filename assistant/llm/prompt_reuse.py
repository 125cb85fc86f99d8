"""How the chat engine reuses what llama.cpp has read: the states of recent conversations (LlamaRAMCache), and
the start of a conversation's next turn, read while its last answer is read by the member."""

from __future__ import annotations

from typing import Any

from assistant.llm.llama_adapter import (
    cache_forget_prefixes,
    cache_holds,
    evaluated_tokens,
    state_load_without_logits,
    state_save_without_logits,
    tokens_read_on,
)

# Evaluated tokens a saved state must spare before saving or restoring it is worth its copy.
WORTH_KEEPING_TOKENS = 64


# Stands for the member's next message while the text before it is found; plain words, which no template alters.
NEXT_TURN_MARK = "HearthNextTurnMark"
# The most tokens read ahead: the end of the answer's turn and the start of the next (5 to 10 in the usual templates).
NEXT_TURN_MOST_TOKENS = 32


def next_turn_read(llama: Any, *, formatter: Any, context_size: int, answered: list[dict[str, Any]]) -> None:
    """Read what every next turn of this conversation starts with (the answer's end-of-turn tokens and the
    member's turn header), when the context holds the answer. A guess that turns out wrong costs nothing
    later: Llama.generate keeps only the prefix the real prompt shares."""
    from llama_cpp import Llama

    try:
        rendered = formatter(messages=[*answered, {"role": "user", "content": NEXT_TURN_MARK}])
    except Exception:  # a template that refuses this order: the next turn reads it all, as before
        return
    cut = rendered.prompt.find(NEXT_TURN_MARK)
    if cut < 0:
        return
    ahead = llama.tokenize(rendered.prompt[:cut].encode("utf-8"), add_bos=not rendered.added_special, special=True)
    current = evaluated_tokens(llama)
    shared = Llama.longest_token_prefix(current, ahead)
    # `current` (the answer's last token was sampled, never read) normally lies whole inside `ahead`; its last
    # token may differ when a word reads back as other tokens. Anything more: the text is not what was read.
    if len(current) - shared > 1 or not 0 < len(ahead) - shared <= NEXT_TURN_MOST_TOKENS:
        return
    if len(ahead) < context_size - 1:
        tokens_read_on(llama, ahead[shared:], after=shared)


def conversation_switch(llama: Any, prompt: list[int]) -> None:
    """Keep the state of the conversation being left (unless state_keep already did), and resume the best
    saved one for this prompt.

    The next turn of the same conversation extends what is already evaluated, so nothing is saved
    or restored then: either costs a copy of the evaluated context.
    """
    if llama.cache is None:
        return
    from llama_cpp import Llama

    current = evaluated_tokens(llama)
    shared = Llama.longest_token_prefix(current, prompt)
    if len(current) - shared >= WORTH_KEEPING_TOKENS:
        conversation_keep(llama, tuple(current))
    try:
        saved = llama.cache[prompt]
    except KeyError:
        return
    resumable = Llama.longest_token_prefix(saved.input_ids[: saved.n_tokens].tolist(), prompt)
    if resumable - shared >= WORTH_KEEPING_TOKENS:
        state_load_without_logits(llama, saved)


def conversation_keep(llama: Any, current: tuple[int, ...]) -> None:
    """Save the state of the evaluated tokens `current`, unless the cache holds it already; a saved state they
    extend (an earlier turn of the same conversation) goes, since this one resumes everything it would."""
    if cache_holds(llama.cache, current):
        return
    llama.cache[current] = state_save_without_logits(llama)
    cache_forget_prefixes(llama.cache, current)
