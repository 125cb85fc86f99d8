"""A tiny OpenCLIP model with random weights, written by the tests themselves (no registry ships CLIP weights).

Real open_clip code end to end: a small config registered as an architecture, the model created with
`pretrained=None`, its state dict saved, and the config written beside the checkpoint as
`<architecture>.json`, which is how Hearth finds an architecture open_clip does not ship. The BPE
vocabulary comes from the open_clip wheel. Random weights give meaningless word search, but a photo
and a re-encoded copy of it still land close together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TINY_ARCHITECTURE = "hearth-tiny-clip"
TINY_CONFIG = {
    "embed_dim": 32,
    # Average pooling over the patches: with random weights, the class token alone makes every photo look alike.
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "pool_type": "avg"},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
# The size of ViT-B-32 (about 150 million parameters) under another name, for the benchmark.
VIT_B32_ARCHITECTURE = "ViT-B-32"


def clip_checkpoint_write(
    *, folder: Path, architecture: str = TINY_ARCHITECTURE, config: dict[str, Any] | None = None, seed: int = 0
) -> Path:
    """Write `<folder>/<architecture>.pt` (and its config, when open_clip does not ship one) and return its path."""
    import open_clip
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    if architecture == TINY_ARCHITECTURE or config:
        config_path = folder / f"{architecture}.json"
        config_path.write_text(json.dumps(config or TINY_CONFIG))
        open_clip.add_model_config(config_path)
    torch.manual_seed(seed)
    model = open_clip.create_model(architecture, pretrained=None, device="cpu")
    checkpoint = folder / f"{architecture}.pt"
    torch.save(model.state_dict(), checkpoint)
    return checkpoint


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny checkpoint's path, written once per session (a fraction of a second)."""
    return clip_checkpoint_write(folder=tmp_path_factory.mktemp("clip"))
