"""The Photos page in a real browser: upload a folder, see it by month, import a CLIP checkpoint on the
Models page, find photos by words and by an uploaded photo, order them by date, and page through the viewer."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.jobs.models import Job, JobStatus
from assistant.photos.models import ClipModel, ClipStatus, Photo
from tests.support import photos
from tests.support.browser import (  # noqa: F401
    PHONE,
    browser_fixture,
    open_page_fixture,
    web_server_fixture,
    web_server_models,
)
from tests.support.services import WorkerProcess, wait_for
from tests.support.tiny_clip import TINY_ARCHITECTURE

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 850}
# Set to a folder to keep screenshots of the pages at laptop and phone widths.
SCREENSHOTS = os.environ.get("HEARTH_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)


def _folder(tmp_path: Path) -> Path:
    """A holiday folder: six photos of nothing much over two months, three of one subject, and a stray note."""
    folder = tmp_path / "Holiday 2023"
    folder.mkdir()
    for n in range(6):
        exif = photos.exif_bytes(taken=datetime(2023, 7 + n % 2, 3 + n, 10, 0))
        (folder / f"DSC_{n:04}.jpg").write_bytes(photos.encoded(photos.texture(n), "JPEG", quality=85, exif=exif))
    for n, when in enumerate((datetime(2023, 7, 20, 9, 0), datetime(2023, 8, 25, 18, 0), datetime(2023, 7, 1, 7, 0))):
        shot = photos.scene(3).rotate(n * 2)
        (folder / f"IMG_{n:04}.jpg").write_bytes(photos.encoded(shot, "JPEG", exif=photos.exif_bytes(taken=when)))
    (folder / "notes.txt").write_text("not a photo")
    return folder


def _visible_in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1


def test_a_newcomer_uploads_a_folder_imports_clip_and_finds_photos(
    olivia: Any, worker: WorkerProcess, open_page: Any, tiny_clip: Path, photo_vectors: None, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    page = open_page(olivia, "/photos/", viewport=LAPTOP)
    assert page.locator("[data-photos-empty]").is_visible()
    assert page.locator("[data-clip-notice]").is_visible()
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    page.set_input_files("#photo-folder", str(folder))
    summary = page.locator("[data-upload-summary]")
    summary.filter(has_text="9 photos added").wait_for(timeout=60_000)
    assert "1 file in the folder skipped" in summary.inner_text()
    tiles = page.locator(".photo-tile img")
    wait_for(lambda: tiles.count() == 9, timeout=120, what="nine thumbnails from the worker", interval=0.5)
    months = page.locator(".photo-month__title")
    assert months.all_inner_texts() == ["August 2023", "July 2023"]
    assert _visible_in_viewport(page, tiles.first)
    _shot(page, "photos-gallery-laptop")

    models = open_page(olivia, "/models/", viewport=LAPTOP)
    models.fill("#clip-architecture", TINY_ARCHITECTURE)
    models.fill("#clip-checkpoint", str(tiny_clip))
    models.click("[data-clip-form] button[type=submit]")
    wait_for(lambda: ClipModel.objects.filter(status=ClipStatus.READY).exists(), timeout=120, what="the CLIP check")
    indexed = Job.objects.filter(kind="photo_index", status=JobStatus.SUCCEEDED)
    wait_for(lambda: not Photo.objects.filter(embedded_with=None).exists() and indexed.exists(), timeout=120,
             what="the photos' vectors")  # fmt: skip
    models.reload()
    models.locator("[data-clip-section]", has_text="32-dimensional vectors").wait_for()
    _shot(models, "models-clip-laptop")

    page.goto("/photos/")
    page.fill("#photo-q", "our holiday by the sea")
    page.press("#photo-q", "Enter", timeout=120_000)  # the first search loads CLIP in the query worker
    page.wait_for_url("**/photos/search/?q=*")
    assert page.locator("[data-results-summary]").is_visible()

    page.goto("/photos/")
    page.set_input_files("#photo-example", str(folder / "IMG_0000.jpg"))
    page.wait_for_url("**/photos/search/")
    results = page.locator("[data-results] .photo-tile")
    assert sorted(results.evaluate_all("tiles => tiles.map(t => t.dataset.name)")) == [
        "IMG_0000.jpg", "IMG_0001.jpg", "IMG_0002.jpg"
    ]  # fmt: skip
    assert results.first.get_attribute("data-name") == "IMG_0000.jpg"
    assert results.first.locator(".photo-tile__score").inner_text() == "1.00"
    _shot(page, "photos-results-laptop")
    page.click("[data-sort=date]")
    dates = results.evaluate_all("tiles => tiles.map(t => t.dataset.sortAt)")
    assert dates == sorted(dates, reverse=True)
    assert results.first.get_attribute("data-name") == "IMG_0001.jpg"

    results.first.locator("a").click()
    viewer = page.locator("[data-viewer]")
    viewer.locator("[data-viewer-img]").wait_for()
    assert viewer.locator("[data-viewer-name]").inner_text() == "IMG_0001.jpg"
    page.keyboard.press("ArrowRight")
    assert viewer.locator("[data-viewer-name]").inner_text() == "IMG_0000.jpg"
    _shot(page, "photos-viewer-laptop")
    page.keyboard.press("Escape")
    assert not viewer.is_visible()
    assert page.problems == []

    phone = open_page(olivia, "/photos/", viewport=PHONE)
    phone.locator(".photo-tile img").first.wait_for()
    assert _visible_in_viewport(phone, phone.locator(".photo-tile").nth(2))
    _shot(phone, "photos-gallery-phone")
    phone.set_input_files("#photo-example", str(folder / "IMG_0002.jpg"))
    phone.wait_for_url("**/photos/search/")
    _shot(phone, "photos-results-phone")
    # Searches by words and by example ran, and the web server never loaded torch: the query worker encoded them.
    assert web_server_models(page) == []
