"""How a model picks its words: temperature, top-p, answer length, repeat penalty.

Three layers, the first that has a value wins:
  1. the conversation's own setting (Conversation.temperature … repeat_penalty, null = none);
  2. the household's default for the model, set by the owner on the Models page (LocalModel.sampling_defaults),
     else the values the GGUF itself recommends (llama.cpp's general.sampling.* keys, LocalModel.sampling_recommended);
  3. Hearth's own defaults (HEARTH_SAMPLING, and HEARTH_LLM_MAX_TOKENS for the length).

Light on purpose: the web process imports it, the llm worker too; nothing here loads a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Sampling:
    """What llama.cpp samples with. The defaults are Hearth's (llama-cpp-python's chat defaults)."""

    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0

    def generate_kwargs(self) -> dict[str, Any]:
        """As Llama.generate spells them."""
        return {
            "temp": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repeat_penalty": self.repeat_penalty,
        }

    def completion_kwargs(self) -> dict[str, Any]:
        """As Llama.create_chat_completion spells them: the same, but `temperature` in full."""
        kwargs = self.generate_kwargs()
        kwargs["temperature"] = kwargs.pop("temp")
        return kwargs


HEARTH_SAMPLING = Sampling()

# Recommended values a GGUF may carry (gguf-py's Keys.General.SAMPLING_*), by the name Hearth uses.
GGUF_SAMPLING_KEYS = {
    "temperature": "general.sampling.temp",
    "top_p": "general.sampling.top_p",
    "top_k": "general.sampling.top_k",
    "min_p": "general.sampling.min_p",
    "repeat_penalty": "general.sampling.penalty_repeat",
}


@dataclass(frozen=True)
class Knob:
    """One setting a member can change: its range, its step and what it does, in plain words."""

    name: str
    label: str
    low: float
    high: float  # max tokens: replaced by the model's context
    step: str
    integer: bool
    example: str
    help: str


KNOBS = (
    Knob(
        "temperature", "Temperature", 0, 2, "0.05", False, "0.7", "Lower is focused and repeatable, higher more varied."
    ),
    Knob(
        "top_p", "Top-p", 0, 1, "0.01", False, "0.95", "Only the likeliest words, adding up to this share, are drawn."
    ),
    Knob(
        "max_tokens",
        "Max tokens",
        16,
        0,
        "1",
        True,
        "512",
        "The longest answer, in tokens (a token is about ¾ of a word).",
    ),
    Knob(
        "repeat_penalty", "Repeat penalty", 1, 2, "0.05", False, "1.1", "Above 1 discourages repeating the same words."
    ),
)
KNOB_NAMES = tuple(knob.name for knob in KNOBS)


class SamplingInvalid(ValueError):
    """Values out of range or not numbers; `errors` says what is wrong with each field, in the member's words."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


# Plain ASCII numbers only: Python's int() and float() also take "1_000", "٣", "inf" and "1e400".
_WHOLE = re.compile(r"[+-]?[0-9]{1,9}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})", re.ASCII)


def knob_high(knob: Knob, context_size: int) -> float:
    return float(context_size) if knob.name == "max_tokens" else knob.high


def _clean_one(knob: Knob, raw: Any, context_size: int) -> tuple[float | int | None, str]:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None, ""
    kind = "a whole number" if knob.integer else "a number"
    if not (_WHOLE if knob.integer else _DECIMAL).fullmatch(text):
        return None, f"{knob.label} must be {kind}, for example {knob.example}."
    number: float | int = int(text) if knob.integer else float(text)
    high = knob_high(knob, context_size)
    if not math.isfinite(number) or not knob.low <= number <= high:
        limit = " (the model's context)" if knob.name == "max_tokens" else ""
        low, top = number_text(knob.low), number_text(int(high) if knob.integer else high)
        return None, f"{knob.label} must be from {low} to {top}{limit}; you entered {text}."
    return number, ""


def sampling_clean(*, raw: Mapping[str, Any], context_size: int) -> dict[str, float | int | None]:
    """The four settings from a form: numbers in range, or None where left empty. SamplingInvalid otherwise."""
    cleaned: dict[str, float | int | None] = {}
    errors: dict[str, str] = {}
    for knob in KNOBS:
        value, error = _clean_one(knob, raw.get(knob.name), context_size)
        if error:
            errors[knob.name] = error
        cleaned[knob.name] = value
    if errors:
        raise SamplingInvalid(errors)
    return cleaned


def gguf_sampling_read(field: Any) -> dict[str, float]:
    """The recommended values a GGUF carries; `field(key)` reads one metadata value (None when absent)."""
    found: dict[str, float] = {}
    for name, key in GGUF_SAMPLING_KEYS.items():
        value = field(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        found[name] = int(value) if name == "top_k" else round(float(value), 4)
    return found


# --- resolving ------------------------------------------------------------------------------------

_RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "min_p": (0.0, 1.0), "repeat_penalty": (1.0, 2.0)}


def _fit(name: str, value: float, context_size: int) -> float | int:
    if name == "max_tokens":
        return int(min(max(16, int(value)), context_size))
    if name == "top_k":
        return max(0, int(value))
    low, high = _RANGES[name]
    return min(max(float(value), low), high)


@dataclass(frozen=True)
class Default:
    value: float | int
    source: str  # "household", "file" or "hearth"

    @property
    def source_label(self) -> str:
        return {"household": "set by the household", "file": "from the model file", "hearth": "Hearth's default"}[
            self.source
        ]


def model_sampling_defaults(model: Any, context_size: int, *, household: bool = True) -> dict[str, Default]:
    """Each setting's household default for `model` (a LocalModel), and where it comes from.
    household=False: what the defaults are without the owner's settings (the file's, else Hearth's)."""
    owners = (model.sampling_defaults or {}) if household else {}
    recommended = model.sampling_recommended or {}
    hearth = {**HEARTH_SAMPLING.completion_kwargs(), "max_tokens": settings.HEARTH_LLM_MAX_TOKENS}
    defaults: dict[str, Default] = {}
    for name, fallback in hearth.items():
        for source, values in (("household", owners), ("file", recommended)):
            value = values.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                defaults[name] = Default(_fit(name, value, context_size), source)
                break
        else:
            defaults[name] = Default(_fit(name, fallback, context_size), "hearth")
    return defaults


def conversation_sampling(*, conversation: Any, model: Any, context_size: int) -> tuple[Sampling, int]:
    """What an answer in `conversation` samples with, and its longest length in tokens."""
    defaults = model_sampling_defaults(model, context_size)
    values: dict[str, Any] = {name: default.value for name, default in defaults.items()}
    for name in KNOB_NAMES:
        own = getattr(conversation, name, None)
        if own is not None:
            values[name] = _fit(name, own, context_size)
    max_tokens = int(values.pop("max_tokens"))
    return Sampling(**values), max_tokens


# --- what a form shows ----------------------------------------------------------------------------


def number_text(value: float | int) -> str:
    """0.2, 0.95, 1, 1024: as a person writes the number (and as an <input type=number> takes it)."""
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}".rstrip("0").rstrip(".")


def sampling_fields(*, defaults: dict[str, Default], own: Mapping[str, Any], context_size: int) -> list[dict[str, Any]]:
    """The four settings as a form shows them: the value in force (`own` where set), the default, the range."""
    rows = []
    for knob in KNOBS:
        mine = own.get(knob.name)
        default = defaults[knob.name]
        rows.append(
            {
                "name": knob.name,
                "label": knob.label,
                "help": knob.help,
                "value": number_text(mine if mine is not None else default.value),
                "own": mine is not None,
                "default": number_text(default.value),
                "source": default.source_label,
                "min": number_text(knob.low),
                "max": number_text(int(knob_high(knob, context_size)) if knob.integer else knob.high),
                "step": knob.step,
            }
        )
    return rows


def sampling_overrides(
    *, cleaned: Mapping[str, float | int | None], defaults: dict[str, Default]
) -> dict[str, float | int | None]:
    """What is worth keeping of a saved form: a value equal to the default is not an override (None), so a
    later change of the default still reaches it."""
    kept: dict[str, float | int | None] = {}
    for name in KNOB_NAMES:
        value = cleaned.get(name)
        same = value is not None and math.isclose(float(value), float(defaults[name].value), abs_tol=1e-6)
        kept[name] = None if same else value
    return kept
