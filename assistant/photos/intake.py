"""Reading an uploaded photo: is it one, what is it, when was it taken; and making its smaller copies.

JPEG, PNG, WebP, GIF (the first frame) and HEIC/HEIF (through pillow-heif, which bundles libheif).
Every refusal is a `PhotoRejected` whose message names the file and says what to do. Nothing here
touches the database or settings: limits come in as arguments, so the web upload and the worker
share one definition of a good photo.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "HEIF": "heic"}
ACCEPTED_WORDS = "JPEG, PNG, WebP, GIF or HEIC"
# Pillow itself refuses images over about 179 megapixels at open; below that, Hearth's own limit (an
# argument) applies, and Pillow's warning about 89 megapixels is not needed.
# Fewer bytes per pixel than this in a file that large is not a photo: it is a decompression bomb.
BOMB_BYTES_PER_PIXEL = 0.002
EXIF_DATE_TAGS = ((ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal), (ExifTags.Base.DateTime, None))
SIGNATURES = {b"%PDF": "a PDF document", b"PK\x03\x04": "a zip archive", b"\x7fELF": "a program"}


class PhotoRejected(ValueError):
    """The file is not a photo Hearth can keep; the message names it and says why."""


@dataclass(frozen=True)
class PhotoFacts:
    """What intake learned: the format, the upright size, when it was taken, and the bytes' SHA-256."""

    format: str
    extension: str
    width: int
    height: int
    taken_at: datetime | None
    sha256: str
    notice: str = ""


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def _signature_check(stream: IO[bytes], name: str) -> None:
    head = stream.read(16)
    stream.seek(0)
    if not head:
        raise PhotoRejected(f"{name} is empty (0 bytes). Copy the photo again from where it came from.")
    for magic, what in SIGNATURES.items():
        if head.startswith(magic):
            raise PhotoRejected(f"{name} is {what}, not a photo. Photos can be {ACCEPTED_WORDS}.")


def _size_check(image: Image.Image, name: str, *, file_size: int, max_pixels: int) -> None:
    pixels = image.width * image.height
    if pixels <= max_pixels:
        return
    megapixels = f"{pixels / 1e6:.0f} megapixels"
    if file_size / pixels < BOMB_BYTES_PER_PIXEL:
        raise PhotoRejected(
            f"{name} is a {file_size // 1024 or 1} kB file that would expand to {megapixels} "
            f"({image.width} x {image.height}): a decompression bomb, refused."
        )
    raise PhotoRejected(
        f"{name} is {image.width} x {image.height} pixels ({megapixels}); Hearth takes photos up to "
        f"{max_pixels / 1e6:.0f} megapixels. Export a smaller copy."
    )


def photo_open(
    stream: IO[bytes], *, name: str, max_pixels: int, draft_side: int = 0
) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded first frame (not yet turned upright) and its stored size. With draft_side, a JPEG is
    decoded at the smallest scale that still covers that many pixels (much faster; damage is still found)."""
    _signature_check(stream, name)
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream)
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRejected(f"{name} is a {image.format} image. Photos can be {ACCEPTED_WORDS}.")
            _size_check(image, name, file_size=size, max_pixels=max_pixels)
            stored_size = image.size
            if draft_side and image.format == "JPEG":
                image.draft("RGB", (draft_side, draft_side))
            image.load()
        except PhotoRejected:
            raise
        except Image.DecompressionBombError as exc:
            raise PhotoRejected(
                f"{name} would expand to more than {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels: "
                "a decompression bomb or far larger than a photo, refused."
            ) from exc
        except UnidentifiedImageError as exc:
            raise PhotoRejected(f"{name} is not a photo Hearth can read. Photos can be {ACCEPTED_WORDS}.") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise PhotoRejected(
                f"{name} is damaged or incomplete ({exc}). Copy or export it again from where it came from."
            ) from exc
    return image, stored_size


def _parse_exif_date(value: object, offset: object, local: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        taken = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            sign = 1 if offset[0] == "+" else -1
            return taken.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        except ValueError:
            pass
    return taken.replace(tzinfo=local)


def exif_taken_at(image: Image.Image, *, local: tzinfo) -> tuple[datetime | None, bool]:
    """(EXIF DateTimeOriginal, else DateTime; and whether the EXIF block was readable at all).
    A date without an offset is the household's local time."""
    try:
        exif = image.getexif()
        if not exif and len(image.info.get("exif") or b"") > 6:
            return None, False  # an EXIF block is there, and not one tag could be read from it
        sources = (exif.get_ifd(ExifTags.IFD.Exif), exif)
        for (tag, offset_tag), source in zip(EXIF_DATE_TAGS, sources, strict=True):
            taken = _parse_exif_date(source.get(tag), source.get(offset_tag) if offset_tag else None, local)
            if taken is not None and 1900 < taken.year <= datetime.now().year + 1:
                return taken, True
    except Exception:  # a corrupt EXIF block can raise anything from deep in the parser
        return None, False
    return None, True


def upright(image: Image.Image) -> Image.Image:
    """Rotated and mirrored as the EXIF orientation says; a corrupt orientation leaves it as it is."""
    try:
        turned = ImageOps.exif_transpose(image)
    except Exception:
        return image
    return turned if turned is not None else image


def photo_inspect(*, stream: IO[bytes], name: str, max_pixels: int, local: tzinfo) -> PhotoFacts:
    """Check an upload completely (decoding every byte) and describe it. Raises PhotoRejected."""
    image, (width, height) = photo_open(stream, name=name, max_pixels=max_pixels, draft_side=256)
    with image:
        taken_at, exif_readable = exif_taken_at(image, local=local)
        if upright_swaps(image):
            width, height = height, width
        facts = PhotoFacts(
            format=str(image.format),
            extension=ACCEPTED_FORMATS[str(image.format)],
            width=width,
            height=height,
            taken_at=taken_at,
            sha256=sha256_of(stream),
            notice="" if exif_readable else f"{name}: its EXIF block is damaged, so its date is the upload date.",
        )
    return facts


def upright_swaps(image: Image.Image) -> bool:
    """Whether turning the photo upright swaps its width and height (EXIF orientations 5 to 8)."""
    try:
        return image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
    except Exception:
        return False


@dataclass(frozen=True)
class Rendition:
    """A smaller upright JPEG of a photo: the preview the viewer shows, or the gallery's thumbnail."""

    path: Path
    side: int


def renditions_write(*, source: Path, targets: Iterable[Rendition], max_pixels: int) -> Image.Image:
    """Decode `source` once and write each target, largest first; return the smallest (for CLIP)."""
    ordered = sorted(targets, key=lambda target: -target.side)
    with source.open("rb") as stream:
        image, _ = photo_open(stream, name=source.name, max_pixels=max_pixels, draft_side=ordered[0].side)
        current = upright(image).convert("RGB")
    for target in ordered:
        current.thumbnail((target.side, target.side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        target.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = target.path.with_suffix(".part")
        current.save(temporary, "JPEG", quality=85, optimize=False)
        temporary.chmod(0o600)
        temporary.replace(target.path)
    return current
