"""Photos members attach to messages: checked, turned upright, scaled down, kept per member."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from assistant.core.storage import member_folder
from assistant.models import ImageAttachment

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"}
# Refuse images that decode to more pixels than this: a small file can expand to gigabytes.
MAX_PIXELS = 40_000_000


class ImageRejected(ValueError):
    """The upload is not a photo Hearth can use; the message says why."""


def _decoded(stream: IO[bytes]) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream)
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"{image.format} images are not supported. Use JPEG, PNG, WebP or GIF.")
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(
                    f"This image is {image.width} by {image.height} pixels, more than Hearth opens safely. "
                    "Resize it first."
                )
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(
                "This image expands to far more pixels than its size suggests, so it was refused."
            ) from exc
        except UnidentifiedImageError as exc:
            raise ImageRejected("This file is not a photo Hearth can read. Use JPEG, PNG, WebP or GIF.") from exc
        except OSError as exc:
            raise ImageRejected(
                f"This image is damaged or incomplete ({exc}). Try saving or exporting it again."
            ) from exc
    return image


def image_ingest(*, owner: Any, upload: Any) -> ImageAttachment:
    if upload.size > settings.HEARTH_IMAGE_UPLOAD_MAX_BYTES:
        limit = settings.HEARTH_IMAGE_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ImageRejected(f"This photo is larger than the {limit} MB limit.")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    image = ImageOps.exif_transpose(_decoded(upload))
    image = image.convert("RGB")
    image.thumbnail((settings.HEARTH_IMAGE_MAX_SIDE, settings.HEARTH_IMAGE_MAX_SIDE))
    path = member_folder(owner_id=owner.pk, kind="images") / f"{uuid.uuid4().hex}.jpg"
    image.save(path, "JPEG", quality=90)
    path.chmod(0o600)
    return ImageAttachment.objects.create(
        owner=owner,
        file=str(path.relative_to(settings.DATA_DIR)),
        original_name=Path(upload.name or "photo").name[:255],
        width=image.width,
        height=image.height,
        sha256=digest.hexdigest(),
    )
