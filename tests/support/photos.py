"""Photos the tests upload, built in memory: real JPEG/PNG/WebP/GIF/HEIC files with EXIF, and bad input.

Each "scene" is a distinct picture (a colour field with shapes), so that a photo, a re-encoded copy of it,
and photos of other scenes are told apart even by a CLIP model with random weights.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import datetime

from PIL import ExifTags, Image, ImageDraw

PALETTE = [
    (200, 40, 40), (40, 160, 60), (40, 70, 200), (230, 200, 40), (150, 60, 180),
    (30, 180, 190), (240, 140, 30), (120, 120, 120), (250, 250, 250), (20, 20, 20),
]  # fmt: skip


def scene(number: int, *, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture that looks like no other scene number: a background colour and random shapes."""
    rng = random.Random(number)
    image = Image.new("RGB", size, PALETTE[number % len(PALETTE)])
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(30, size[0] // 2), rng.randrange(30, size[1] // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    return image


def exif_bytes(*, taken: datetime | None = None, orientation: int | None = None, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if taken:
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[ExifTags.Base.DateTime] = stamp
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        ifd[ExifTags.Base.DateTimeOriginal] = stamp
        if offset:
            ifd[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif.tobytes()


def encoded(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(number: int, *, taken: datetime | None = None, orientation: int | None = None, **options: object) -> bytes:
    exif = exif_bytes(taken=taken, orientation=orientation)
    return encoded(scene(number), "JPEG", quality=90, exif=exif, **options)


def heic(number: int, *, taken: datetime | None = None) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encoded(scene(number), "HEIF", quality=80, exif=exif_bytes(taken=taken))


def gif_animated(number: int) -> bytes:
    frames = [scene(number), scene(number + 1)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def truncated_jpeg(number: int) -> bytes:
    data = jpeg(number)
    return data[: len(data) // 2]


def png_bomb(*, side: int = 20_000) -> bytes:
    """A PNG whose header says side x side pixels (hundreds of megapixels) in a file of a few hundred bytes."""
    data = encoded(Image.new("1", (64, 64)), "PNG")
    header = data[16:29]  # IHDR's payload: width, height, then depth, colour type, compression, filter, interlace
    patched = struct.pack(">II", side, side) + header[8:]
    return data[:8] + png_chunk(b"IHDR", patched) + data[33:]


def jpeg_claiming(width: int, height: int, *, padding: int = 0) -> bytes:
    """A small JPEG whose frame header claims width x height (what a huge photo's header says),
    padded after its end marker to look like a file of that size."""
    data = bytearray(jpeg(1))
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data) + bytes(padding)


def corrupt_exif_jpeg(number: int) -> bytes:
    """A good JPEG whose EXIF block (APP1) is garbage after its header."""
    data = bytearray(jpeg(number, taken=datetime(2020, 1, 1, 12, 0)))
    at = data.find(b"Exif\x00\x00")
    assert at > 0
    for i in range(at + 6, at + 40):
        data[i] = 0xEE
    return bytes(data)


PDF_RENAMED = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def texture(number: int, *, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo of nothing in particular (seeded colour noise): to any subject, every texture looks about
    equally unlike it, as most of a real library looks to one search."""
    import numpy as np

    rng = np.random.default_rng(number)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
