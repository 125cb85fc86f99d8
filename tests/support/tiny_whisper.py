"""A tiny random-weight OpenAI Whisper checkpoint, written the way openai-whisper saves its own.

No registry ships `.pt` Whisper checkpoints, so the import path for them is tested on this one:
it loads in a fraction of a second and transcribes (nonsense, as random weights must) just as fast.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path


def tiny_whisper_checkpoint(*, path: Path, seed: int = 0) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=64,
        n_audio_head=2,
        n_audio_layer=2,
        n_vocab=51864,
        n_text_ctx=448,
        n_text_state=64,
        n_text_head=2,
        n_text_layer=2,
    )
    model = Whisper(dims)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
