"""What the owner changes about a model: its vision projector, whether it is the household's default, its
name, and its household sampling defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from assistant.llm.models import LocalModel
from assistant.llm.sampling import KNOB_NAMES, model_sampling_defaults, sampling_clean, sampling_overrides


class ModelRefused(ValueError):
    """The file or the request cannot be used; the message is shown to the owner as it is."""


_PROJECTOR_WORD = re.compile(r"(?:^|[-_.])mmproj(?:[-_.]|$)", re.IGNORECASE)
# Weight types file names end with: Q4_K_M, IQ4_XS, Q8_0, F16, BF16, fp32…
_WEIGHT_TYPE = re.compile(r"[-_.](?:i?q[1-8](?:_[a-z0-9]+)*|b?f16|f32|fp16|fp32)$", re.IGNORECASE)


def pairing_stem(file_name: str) -> str:
    """What a model's and its projector's file names share: `llava-v1.5-7b` for both
    `llava-v1.5-7b-Q4_K_M.gguf` and `llava-v1.5-7b-mmproj-f16.gguf`."""
    stem = file_name[:-5] if file_name.lower().endswith(".gguf") else file_name
    stem = _PROJECTOR_WORD.sub("-", stem).strip("-_.").lower()
    while match := _WEIGHT_TYPE.search(stem):
        stem = stem[: match.start()]
    return stem


def models_auto_pair(new_rows: list[LocalModel]) -> None:
    """Pair newly found models and projectors that obviously belong together.

    Only new files are paired, so a pairing the owner undid stays undone on the next scan.
    """
    new_ids = {row.pk for row in new_rows}
    for folder in {Path(row.path).parent for row in new_rows if not row.from_package}:
        rows = [
            row
            for row in LocalModel.objects.filter(path__startswith=f"{folder}{os.sep}", from_package=False)
            if Path(row.path).parent == folder
        ]
        chats = [row for row in rows if row.role == LocalModel.Role.CHAT]
        projectors = [row for row in rows if row.role == LocalModel.Role.PROJECTOR]
        for chat in chats:
            if chat.projector_id is not None:
                continue
            stem = pairing_stem(Path(chat.path).name)
            named = [p for p in projectors if stem and pairing_stem(Path(p.path).name) == stem]
            if len(named) == 1 and new_ids & {chat.pk, named[0].pk}:
                local_model_pair(model=chat, projector=named[0])
        if len(chats) == 1 and len(projectors) == 1:
            chat, projector = chats[0], projectors[0]
            lone_mmproj = Path(projector.path).name.lower().startswith("mmproj")
            if chat.projector_id is None and lone_mmproj and new_ids & {chat.pk, projector.pk}:
                local_model_pair(model=chat, projector=projector)


def local_model_pair(*, model: LocalModel, projector: LocalModel | None) -> LocalModel:
    """Give a chat model its vision projector (None unpairs)."""
    if model.role != LocalModel.Role.CHAT:
        raise ModelRefused("Only a chat model can have a vision projector.")
    if projector is not None and projector.role != LocalModel.Role.PROJECTOR:
        raise ModelRefused(f"{projector.name} is not a vision projector (mmproj file).")
    LocalModel.objects.filter(pk=model.pk).update(projector=projector)
    model.refresh_from_db()
    return model


def local_model_set_default(*, model: LocalModel) -> LocalModel:
    if model.role != LocalModel.Role.CHAT:
        raise ModelRefused("A vision projector can't be the default model; pair it with a chat model instead.")
    for attempt in range(3):
        try:
            with transaction.atomic():
                LocalModel.objects.filter(is_default=True).exclude(pk=model.pk).update(is_default=False)
                LocalModel.objects.filter(pk=model.pk).update(is_default=True)
            break
        except IntegrityError:  # another request set a default in between: ours is the latest word
            if attempt == 2:
                raise
    model.refresh_from_db()
    return model


def local_models_ensure_default() -> LocalModel | None:
    """With no default set, the packaged model (or else the oldest chat model) becomes the default."""
    chats = LocalModel.objects.filter(role=LocalModel.Role.CHAT)
    current = chats.filter(is_default=True).first()
    if current is not None:
        return current
    candidate = chats.filter(from_package=True).first() or chats.order_by("added_at", "pk").first()
    if candidate is None:
        return None
    try:
        return local_model_set_default(model=candidate)
    except IntegrityError:
        return chats.filter(is_default=True).first()


def local_model_rename(*, model: LocalModel, name: str) -> LocalModel:
    """The name the household reads for a model (its file keeps its own). Empty or blank is refused."""
    cleaned = " ".join(name.split())[:200]
    if not cleaned:
        raise ModelRefused('Give the model a name to show, for example "SmolLM2 135M Instruct".')
    LocalModel.objects.filter(pk=model.pk).update(name=cleaned)
    model.refresh_from_db()
    return model


def local_model_sampling_set(
    *, model: LocalModel, raw: Mapping[str, Any], context_size: int, reset: bool = False
) -> None:
    """The household's sampling defaults for a chat model (SamplingInvalid for a value out of range). A value
    equal to what the file recommends (or Hearth's default) is not kept; `reset` keeps none."""
    if model.role != LocalModel.Role.CHAT:
        raise ModelRefused("Only a chat model has sampling settings.")
    kept: dict[str, Any] = {}
    if not reset:
        cleaned = sampling_clean(raw=raw, context_size=context_size)
        defaults = model_sampling_defaults(model, context_size, household=False)
        kept = sampling_overrides(cleaned=cleaned, defaults=defaults)
    LocalModel.objects.filter(pk=model.pk).update(
        sampling_defaults={name: value for name, value in kept.items() if name in KNOB_NAMES and value is not None}
    )
    model.refresh_from_db()
