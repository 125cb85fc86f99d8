"""Image intake: what each kind of photo yields, and a clear error per bad file."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from assistant.photos.intake import (
    PhotoFacts,
    PhotoRejected,
    Rendition,
    photo_inspect,
    renditions_write,
    sha256_of,
)
from tests.support import photos

LOCAL = ZoneInfo("Europe/Paris")
LIMIT = 100_000_000


def inspect(data: bytes, name: str = "photo.jpg") -> PhotoFacts:
    return photo_inspect(stream=io.BytesIO(data), name=name, max_pixels=LIMIT, local=LOCAL)


def test_a_jpeg_gives_its_size_format_digest_and_local_date_taken() -> None:
    data = photos.jpeg(1, taken=datetime(2023, 7, 14, 18, 30, 5))
    facts = inspect(data)
    assert (facts.format, facts.extension, facts.width, facts.height) == ("JPEG", "jpg", 640, 480)
    assert facts.taken_at == datetime(2023, 7, 14, 18, 30, 5, tzinfo=LOCAL)
    assert facts.sha256 == sha256_of(io.BytesIO(data))
    assert facts.notice == ""


def test_the_exif_offset_wins_over_the_household_time_zone() -> None:
    exif = photos.exif_bytes(taken=datetime(2021, 1, 2, 3, 4, 5), offset="-05:00")
    facts = inspect(photos.encoded(photos.scene(2), "JPEG", exif=exif))
    assert facts.taken_at == datetime(2021, 1, 2, 8, 4, 5, tzinfo=UTC)
    assert facts.taken_at.utcoffset() == timedelta(hours=-5)
    assert facts.taken_at.tzinfo == timezone(timedelta(hours=-5))


def test_no_exif_means_no_date_taken() -> None:
    assert inspect(photos.encoded(photos.scene(3), "PNG"), "plain.png").taken_at is None


def test_an_orientation_that_turns_the_photo_swaps_its_size() -> None:
    facts = inspect(photos.jpeg(4, orientation=6))
    assert (facts.width, facts.height) == (480, 640)


@pytest.mark.parametrize(
    ("fmt", "extension", "name"),
    [("PNG", "png", "a.png"), ("WEBP", "webp", "a.webp"), ("GIF", "gif", "a.gif")],
)
def test_png_webp_and_gif_are_photos(fmt: str, extension: str, name: str) -> None:
    facts = inspect(photos.encoded(photos.scene(5), fmt), name)
    assert (facts.format, facts.extension, facts.width, facts.height) == (fmt, extension, 640, 480)


def test_an_animated_gif_is_its_first_frame(tmp_path: Path) -> None:
    source = tmp_path / "anim.gif"
    source.write_bytes(photos.gif_animated(6))
    smallest = renditions_write(source=source, targets=[Rendition(tmp_path / "t.jpg", 64)], max_pixels=LIMIT)
    first = photos.scene(6).resize(smallest.size).getpixel((1, 1))
    assert smallest.getpixel((1, 1)) == pytest.approx(first, abs=40)


def test_heic_is_read_with_its_date() -> None:
    facts = inspect(photos.heic(7, taken=datetime(2024, 2, 29, 9, 0)), "IMG_0001.HEIC")
    assert (facts.format, facts.extension, facts.width, facts.height) == ("HEIF", "heic", 640, 480)
    assert facts.taken_at == datetime(2024, 2, 29, 9, 0, tzinfo=LOCAL)


def test_renditions_are_upright_jpegs_no_larger_than_asked(tmp_path: Path) -> None:
    source = tmp_path / "turned.jpg"
    source.write_bytes(photos.jpeg(8, orientation=6))
    preview, thumb = tmp_path / "p" / "1.jpg", tmp_path / "t" / "1.jpg"
    smallest = renditions_write(
        source=source, targets=[Rendition(thumb, 200), Rendition(preview, 400)], max_pixels=LIMIT
    )
    with Image.open(preview) as big, Image.open(thumb) as small:
        assert (big.format, big.size) == ("JPEG", (300, 400))
        assert small.size == (150, 200)
        assert not big.getexif().get(274)
    assert smallest.size == (150, 200)
    assert oct(thumb.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.rglob("*.part"))


def test_a_corrupt_exif_block_keeps_the_photo_and_says_its_date_is_unknown() -> None:
    facts = inspect(photos.corrupt_exif_jpeg(9), "IMG_9.jpg")
    assert facts.taken_at is None
    assert (facts.width, facts.height) == (640, 480)
    assert facts.notice == "IMG_9.jpg: its EXIF block is damaged, so its date is the upload date."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.jpg", "empty.jpg is empty (0 bytes)."),
        (photos.PDF_RENAMED, "scan.jpg", "scan.jpg is a PDF document, not a photo."),
        (b"just some words, not a photo at all", "notes.png", "notes.png is not a photo Hearth can read."),
        (photos.truncated_jpeg(10), "cut.jpg", "cut.jpg is damaged or incomplete"),
        (photos.encoded(photos.scene(1), "BMP"), "old.bmp", "old.bmp is a BMP image. Photos can be JPEG, PNG"),
    ],
    ids=["zero-bytes", "renamed-pdf", "text", "truncated-jpeg", "bmp"],
)
def test_bad_files_are_refused_by_name(data: bytes, name: str, message: str) -> None:
    with pytest.raises(PhotoRejected) as refused:
        inspect(data, name)
    assert str(refused.value).startswith(message)


def test_a_decompression_bomb_is_refused() -> None:
    with pytest.raises(PhotoRejected, match=r"^bomb\.png would expand to more than 179 megapixels"):
        inspect(photos.png_bomb(side=20_000), "bomb.png")


def test_a_small_file_claiming_a_hundred_and_twenty_megapixels_is_a_bomb() -> None:
    with pytest.raises(PhotoRejected, match=r"^sly\.png is a \d+ kB file that would expand to 120 megapixels"):
        inspect(photos.encoded(Image.new("1", (12_000, 10_000)), "PNG"), "sly.png")


def test_a_photo_over_the_household_limit_says_the_limit() -> None:
    data = photos.jpeg_claiming(12_000, 9_000, padding=30_000_000)
    with pytest.raises(PhotoRejected) as refused:
        inspect(data, "huge.jpg")
    assert str(refused.value) == (
        "huge.jpg is 12000 x 9000 pixels (108 megapixels); Hearth takes photos up to 100 megapixels. "
        "Export a smaller copy."
    )
