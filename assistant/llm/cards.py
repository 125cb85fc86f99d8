"""What the Models page shows of a local model: its memory needs, how it fits this machine, readable sizes.

The rows themselves (finding, reading, pairing, deleting models) are local_models.py's; this module only
turns them into what a person reads, and is shared by the page, imports and the `models_scan` command.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from assistant.llm.gguf_info import ram_estimate_bytes
from assistant.llm.sampling import model_sampling_defaults, sampling_fields
from assistant.models import LocalModel

# Share of this machine's memory a model may need: below FITS it runs comfortably, below TIGHT it runs
# with little left for anything else, above it will not load or will swap.
FITS_SHARE = 0.70
TIGHT_SHARE = 0.90


# --- what the page shows --------------------------------------------------------------------------


class RamFit(enum.StrEnum):
    FITS = "fits"
    TIGHT = "tight"
    WONT_FIT = "wont_fit"

    @property
    def label(self) -> str:
        return {"fits": "Fits in memory", "tight": "Tight fit", "wont_fit": "Won't fit"}[self.value]


def ram_fit(*, needed: int, total: int) -> RamFit:
    if needed < total * FITS_SHARE:
        return RamFit.FITS
    if needed < total * TIGHT_SHARE:
        return RamFit.TIGHT
    return RamFit.WONT_FIT


def machine_ram_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def model_context_tokens(model: LocalModel) -> int:
    """The context Hearth gives this model: HEARTH_LLM_CONTEXT, capped at what it was trained for."""
    configured = int(settings.HEARTH_LLM_CONTEXT)
    return min(configured, model.context_length) if model.context_length else configured


def model_ram_needed(model: LocalModel) -> int:
    """Memory to run the model at Hearth's context (and its paired projector, if any)."""
    needed = ram_estimate_bytes(
        size_bytes=model.size_bytes, kv_bytes_per_token=model.kv_bytes_per_token, context=model_context_tokens(model)
    )
    if model.projector is not None:
        needed += int(model.projector.size_bytes * 1.1)
    return needed


def human_count(number: int) -> str:
    """135M, 7.2B, 89K: a parameter count as model cards write it."""
    for unit, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if number >= scale:
            value = number / scale
            text = f"{value:.1f}".removesuffix(".0") if value < 9.95 else f"{value:.0f}"
            return f"{text}{unit}"
    return str(number)


def human_bytes(size: int) -> str:
    """1.2 GB, 93.8 MB: decimal units, as disks and downloads are labelled."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


# --- the page's view of the rows ------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCard:
    """One row as the Models page shows it."""

    model: LocalModel
    file_name: str
    parameters: str
    size: str
    context: str
    ram_needed: str
    fit: RamFit | None
    paired_with: list[LocalModel]
    # Chat models: the household's sampling defaults as the card's form shows them (assistant/llm/sampling.py).
    sampling: list[dict[str, Any]] = field(default_factory=list)
    sampling_from_file: bool = False

    @property
    def sampling_prefix(self) -> str:
        """Unique ids for the card's sampling fields."""
        return f"model-{self.model.pk}-sampling"


def model_cards(*, models: list[LocalModel]) -> Iterator[ModelCard]:
    total = machine_ram_bytes()
    paired: dict[int, list[LocalModel]] = {}
    for model in models:
        if model.projector_id is not None:
            paired.setdefault(model.projector_id, []).append(model)
    for model in models:
        chat = model.role == LocalModel.Role.CHAT
        needed = model_ram_needed(model) if chat else 0
        yield ModelCard(
            model=model,
            file_name=Path(model.path).name,
            parameters=human_count(model.parameters),
            size=human_bytes(model.size_bytes),
            context=f"{model.context_length:,}" if model.context_length else "",
            ram_needed=human_bytes(needed) if chat else "",
            fit=ram_fit(needed=needed, total=total) if chat else None,
            paired_with=paired.get(model.pk, []),
            sampling=model_sampling_card(model) if chat else [],
            sampling_from_file=bool(model.sampling_recommended),
        )


def model_sampling_card(model: LocalModel) -> list[dict[str, Any]]:
    """The household's sampling defaults for a chat model: the owner's values over the file's (or Hearth's)."""
    context = model_context_tokens(model)
    defaults = model_sampling_defaults(model, context, household=False)
    return sampling_fields(defaults=defaults, own=model.sampling_defaults or {}, context_size=context)
