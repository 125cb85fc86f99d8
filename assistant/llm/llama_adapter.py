"""Every private attribute of llama-cpp-python that Hearth touches, in one file.

llama-cpp-python's public API lacks a few things the engine needs (a token's text, the tokens already
evaluated, a state without its logits copy). When the library is upgraded, this is the file to check.
Written against llama-cpp-python 0.3.36. Imported only by the llm worker (llama_cpp is loaded lazily).
"""

from __future__ import annotations

from typing import Any, cast


def token_text(llama: Any, token: int) -> str:
    """The text of a special token (BOS/EOS), as the chat template expects it."""
    return str(llama._model.token_get_text(token)) if token != -1 else ""


def is_end_of_generation(llama: Any, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llama._model.vocab, token))


def evaluated_tokens(llama: Any) -> list[int]:
    """The tokens whose state the context holds now."""
    return list(llama._input_ids.tolist())


def state_save_without_logits(llama: Any) -> Any:
    """Llama.save_state without its copy of the logits rows (up to n_batch x n_vocab floats, ~100 MB for a
    49k vocabulary), which sampling never reads: one row stands for them, and load_state broadcasts it."""
    import ctypes

    import llama_cpp
    import numpy as np
    from llama_cpp.llama import LlamaState

    size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    written = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size))
    if written > int(size):
        raise RuntimeError("llama.cpp wrote more state than it said it would")
    return LlamaState(
        scores=np.zeros((1, llama.n_vocab()), dtype=np.single),
        input_ids=llama.input_ids.copy(),
        n_tokens=llama.n_tokens,
        # The buffer itself when it is exactly full (the usual case): a bytes() copy would cost another pass.
        # Typed bytes, but only ever read through from_buffer_copy, which takes any buffer.
        llama_state=cast(bytes, buffer) if written == int(size) else bytes(memoryview(buffer)[:written]),
        llama_state_size=written,
        seed=llama._seed,
    )


def cache_holds(cache: Any, tokens: tuple[int, ...]) -> bool:
    """Whether a LlamaRAMCache holds the state of exactly `tokens` (its `in` finds any shared prefix)."""
    return tokens in cache.cache_state


def cache_forget_prefixes(cache: Any, tokens: tuple[int, ...]) -> None:
    """Drop from a LlamaRAMCache the states of strict prefixes of `tokens`: a state of `tokens` covers them."""
    for key in [key for key in cache.cache_state if len(key) < len(tokens) and tokens[: len(key)] == key]:
        del cache.cache_state[key]


def state_load_without_logits(llama: Any, state: Any) -> None:
    """Llama.load_state without writing the logits rows: load_state fills up to n_batch x n_vocab floats
    (~100 MB for a 49k vocabulary) that sampling never reads before the next evaluation refreshes them;
    Llama.generate always evaluates at least one token after a restore."""
    import ctypes

    import llama_cpp

    llama.input_ids = state.input_ids.copy()
    llama.n_tokens = state.n_tokens
    llama._requires_eval = True
    llama._seed = state.seed
    data = (ctypes.c_uint8 * state.llama_state_size).from_buffer_copy(state.llama_state)
    if llama_cpp.llama_state_set_data(llama._ctx.ctx, data, state.llama_state_size) != state.llama_state_size:
        raise RuntimeError("llama.cpp did not take the saved state")


def tokens_read_on(llama: Any, tokens: list[int], *, after: int) -> None:
    """Evaluate `tokens` after the first `after` evaluated ones (the context's later ones are dropped)."""
    llama.n_tokens = after
    llama.eval(tokens)
