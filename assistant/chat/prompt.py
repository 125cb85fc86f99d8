"""Planning what a chat model is asked: the turns and passages that fit its context. Pure: no model here.

Token counts come from the caller (`count_tokens`), so this is tested without llama.cpp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.chat.retrieval import Source, context_block

# Tokens a message costs beyond its text (role markers, separators), and a photo when unknown.
MESSAGE_OVERHEAD_TOKENS = 8
DEFAULT_IMAGE_TOKENS = 600

Turn = dict[str, Any]  # {"role": "user" | "assistant", "text": str, "images": [attachments with .file]}
ImagePart = Callable[[str], dict[str, Any]]


class PromptTooLong(ValueError):
    """Even the question alone does not fit the model's context; the message says what to do."""


class HistoryMessage(Protocol):
    role: str
    content: str

    @property
    def images(self) -> Any: ...


@dataclass
class PromptPlan:
    """What the model is asked: the messages that fit, how long the answer may grow, its passages."""

    messages: list[dict[str, Any]]
    max_tokens: int
    notice: str
    passages: list[Source] = field(default_factory=list)


def merged_turns(history: Sequence[HistoryMessage]) -> list[Turn]:
    """One entry per turn: templates such as Mistral's and Gemma's insist that roles alternate."""
    turns: list[Turn] = []
    for message in history:
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["text"] += "\n\n" + message.content
            turns[-1]["images"] += list(message.images.all())
        else:
            turns.append({"role": message.role, "text": message.content, "images": list(message.images.all())})
    return turns


def system_text(system: str, passages: Sequence[Source]) -> str:
    return "\n\n".join(part for part in (system, context_block(list(passages))) if part)


def fit_turns(
    *,
    turns: list[Turn],
    system: str,
    budget: int,
    image_tokens: int,
    count_tokens: Callable[[str], int],
    passages: Sequence[Source] = (),
) -> tuple[list[Turn], int, int, int]:
    """Fit the prompt: drop the oldest turns, then the weakest passages, never the question.

    Returns the turns kept, how many turns were dropped, the cost, and how many passages were kept.
    """

    def cost(turn: Turn) -> int:
        return count_tokens(turn["text"]) + MESSAGE_OVERHEAD_TOKENS + image_tokens * len(turn["images"])

    def fixed(kept: int) -> int:
        text = system_text(system, passages[:kept])
        return count_tokens(text) + MESSAGE_OVERHEAD_TOKENS if text else 0

    kept = len(passages)
    costs = [cost(turn) for turn in turns]
    start = 0
    # The passages the question is answered from matter more than old turns of the conversation.
    while start < len(turns) - 1 and fixed(kept) + sum(costs[start:]) > budget:
        start += 1
    # A history must start with the member speaking.
    while start < len(turns) - 1 and turns[start]["role"] != "user":
        start += 1
    while kept and fixed(kept) + sum(costs[start:]) > budget:
        kept -= 1
    total = fixed(kept) + sum(costs[start:])
    if total > budget:
        raise PromptTooLong(
            f"Your message is too long for this model: it needs about {total} tokens and the model has {budget} "
            "for the question. Shorten it, or pick a model with a longer context."
        )
    return turns[start:], start, total, kept


def chat_messages(turns: list[Turn], system: str, *, image_part: ImagePart | None) -> list[dict[str, Any]]:
    """The messages in the OpenAI shape; photos of the last question only, and only for a vision model."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    question = next((turn for turn in reversed(turns) if turn["role"] == "user"), None)
    for turn in turns:
        images = turn["images"] if image_part is not None and turn is question else []
        if images and image_part is not None:
            content: Any = [{"type": "text", "text": turn["text"]}, *(image_part(i.file) for i in images)]
        else:
            content = turn["text"]
        messages.append({"role": turn["role"], "content": content})
    return messages


def without_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For templates that refuse a system role (Gemma): fold it into the first question."""
    system, first, *rest = messages
    text = first["content"] if isinstance(first["content"], str) else first["content"][0]["text"]
    merged = f"{system['content']}\n\n{text}"
    if isinstance(first["content"], str):
        return [{**first, "content": merged}, *rest]
    return [{**first, "content": [{"type": "text", "text": merged}, *first["content"][1:]]}, *rest]


def prompt_plan(
    *,
    turns: list[Turn],
    system: str,
    passages: Sequence[Source],
    context_size: int,
    max_answer_tokens: int,
    image_tokens: int,
    count_tokens: Callable[[str], int],
    image_part: ImagePart | None,
) -> PromptPlan:
    # Keep a quarter of the context (at most the longest answer) free for the answer itself.
    reserve = min(max_answer_tokens, context_size // 4)
    kept_turns, dropped, cost, kept = fit_turns(
        turns=turns,
        system=system,
        budget=context_size - reserve,
        image_tokens=image_tokens,
        count_tokens=count_tokens,
        passages=passages,
    )
    notices = []
    if dropped:
        notices.append(f"The oldest {dropped} turns were left out to fit the model's {context_size}-token context.")
    if kept < len(passages):
        notices.append(f"{len(passages) - kept} of the {len(passages)} passages found did not fit the context.")
    return PromptPlan(
        messages=chat_messages(kept_turns, system_text(system, passages[:kept]), image_part=image_part),
        max_tokens=min(max_answer_tokens, max(16, context_size - cost - 16)),
        notice=" ".join(notices),
        passages=list(passages[:kept]),
    )
