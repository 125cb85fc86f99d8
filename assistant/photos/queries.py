"""What the query worker runs for a photo search (jobs.remote): the query's CLIP vector.

The encoders load once per worker process (clip.clip_loaded keeps them) and stay warm for the next
search. Arguments and results are JSON: the example photo travels as base64 PNG, already opened,
checked and made small by the web process.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from assistant.documents.pipeline.embed import embed_threads
from assistant.photos.clip import ClipSpec, ImageEmbedder, TextEmbedder
from assistant.photos.models import ClipModel


def _spec(model_id: int) -> ClipSpec:
    model = ClipModel.objects.get(pk=model_id)
    return ClipSpec(architecture=model.architecture, checkpoint=Path(model.checkpoint))


def clip_text_vector(*, model_id: int, text: str) -> list[float]:
    return TextEmbedder(spec=_spec(model_id), threads=embed_threads()).embed_batch([text])[0]


def clip_image_vector(*, model_id: int, png_base64: str) -> list[float]:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(png_base64))) as image:
        return ImageEmbedder(spec=_spec(model_id), threads=embed_threads()).embed_batch([image.convert("RGB")])[0]
