"""A conversation's sampling settings: what the chat's Sampling panel shows and saves.

The rules (the conversation's value, else the model's household default) are assistant/llm/sampling.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.chat.services import chat_model_for
from assistant.llm.cards import model_context_tokens
from assistant.llm.sampling import (
    KNOB_NAMES,
    model_sampling_defaults,
    sampling_clean,
    sampling_fields,
    sampling_overrides,
)
from assistant.models import Conversation


def sampling_panel(*, conversation: Conversation) -> dict[str, Any]:
    """What the panel shows: each setting in force for this conversation, its model default, its range.
    ChatError when there is no chat model to answer with."""
    model = chat_model_for(conversation)
    context = model_context_tokens(model)
    own = {name: getattr(conversation, name) for name in KNOB_NAMES}
    fields = sampling_fields(defaults=model_sampling_defaults(model, context), own=own, context_size=context)
    return {"model": model.name, "fields": fields, "overridden": any(field["own"] for field in fields)}


def conversation_sampling_update(
    *, conversation: Conversation, raw: Mapping[str, Any], reset: bool = False
) -> Conversation:
    """Save the panel: values in range (SamplingInvalid names each wrong one and nothing is saved); a value
    equal to the model's default, or left empty, follows the default. `reset` clears them all."""
    model = chat_model_for(conversation)
    context = model_context_tokens(model)
    if reset:
        kept: dict[str, Any] = dict.fromkeys(KNOB_NAMES)
    else:
        cleaned = sampling_clean(raw=raw, context_size=context)
        kept = sampling_overrides(cleaned=cleaned, defaults=model_sampling_defaults(model, context))
    for name, value in kept.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=[*KNOB_NAMES, "updated_at"])
    return conversation
