"""The plain side of bench.chat_stream: llama-cpp-python's chat API, and the bare generate loop."""

from __future__ import annotations

import codecs
import time
from pathlib import Path
from typing import Any

from bench.chat_turn import Turn
from bench.common import BenchError


def chat_sampling() -> dict[str, Any]:
    """Hearth's sampling settings, spelled as create_chat_completion takes them."""
    from assistant.llm.sampling import HEARTH_SAMPLING

    return HEARTH_SAMPLING.completion_kwargs()


class PlainChat:
    """llama-cpp-python as its README uses it: one Llama, create_chat_completion(stream=True)."""

    def __init__(self, *, path: Path, threads: int, context: int) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=str(path), n_ctx=context, n_threads=threads, verbose=False)
        self.sampling = chat_sampling()

    def answer(self, messages: list[dict[str, Any]], max_tokens: int, *, forget: bool = False) -> Turn:
        """One streamed answer; `forget` first drops the KV cache, so the whole prompt is evaluated again."""
        turn = Turn(started=time.perf_counter())
        if forget:
            self.llama.reset()
        chunks = self.llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, stream=True, **self.sampling
        )
        pieces = 0
        for chunk in chunks:
            choice = chunk["choices"][0]
            turn.finish = choice.get("finish_reason") or turn.finish
            content = choice["delta"].get("content")
            if content:
                turn.arrived(content)
                pieces += 1
        # A streamed chunk is one token unless a multi-byte character spans tokens; at the length
        # limit the count is exact.
        turn.tokens = max_tokens if turn.finish == "length" else pieces
        return turn

    def close(self) -> None:
        self.llama.close()


class PlainGenerate:
    """The reference loop: the GGUF's template rendered once, then `Llama.generate` token by token."""

    def __init__(self, *, path: Path, threads: int, context: int) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from assistant.llm.sampling import HEARTH_SAMPLING

        self.llama = Llama(model_path=str(path), n_ctx=context, n_threads=threads, verbose=False)
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise BenchError(f"{path.name} has no chat template; Hearth streams such files another way")
        eos, bos = self.llama.token_eos(), self.llama.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self.llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.llama._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )
        self.sampling = HEARTH_SAMPLING.generate_kwargs()

    def answer(self, messages: list[dict[str, Any]], max_tokens: int) -> Turn:
        import llama_cpp

        turn = Turn(started=time.perf_counter(), finish="length")
        rendered = self.formatter(messages=messages)
        prompt = self.llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for token in self.llama.generate(prompt, **self.sampling):
            if llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token):
                turn.finish = "stop"
                break
            turn.tokens += 1
            piece = decoder.decode(self.llama.detokenize([token]))
            if piece:
                turn.arrived(piece)
            if turn.tokens >= max_tokens:
                break
        return turn

    def close(self) -> None:
        self.llama.close()
