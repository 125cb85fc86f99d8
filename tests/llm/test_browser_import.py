"""The owner imports two GGUF files from a "USB stick" with the file browser (issue 12, item 8), at
1366x850 and 390x844: open the browser, go into a folder, tick two files (by keyboard for the second),
import, and see both models' cards once the real worker has checked them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.models import LocalModel
from tests.environment import TEST_DATA_DIR
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.model_files import chat_model, models_dir_fixture  # noqa: F401
from tests.support.services import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STICK = TEST_DATA_DIR / "usb"


@pytest.fixture
def stick() -> Any:
    folder = STICK / "models"
    folder.mkdir(parents=True, exist_ok=True)
    chat_model(folder / "Kitchen-Helper-Q4_K_M.gguf", name="Kitchen Helper", seed=1)
    chat_model(folder / "Garden-Planner-Q8_0.gguf", name="Garden Planner", seed=2)
    (STICK / "Holiday photos").mkdir(exist_ok=True)
    yield STICK
    shutil.rmtree(STICK, ignore_errors=True)


@pytest.mark.parametrize("size", SIZES)
def test_the_owner_imports_two_models_from_the_file_browser(
    olivia: Any, stick: Path, open_at: Any, worker: WorkerProcess, size: str
) -> None:
    page = open_at(olivia, "/models/", size)
    assert_seen(page, "a[href='/models/browse/']", fits=True)
    page.click("a[href='/models/browse/']")
    page.wait_for_url("**/models/browse/")

    folder = "[data-browse-folder='models']"
    assert_seen(page, folder)
    assert "Holiday photos" in page.inner_text(".browse-list")
    page.click(folder)
    page.wait_for_url("**/models/browse/?root=0&path=models")
    assert_seen(page, ".browse-crumbs [aria-current='page']")
    assert "GGUF model" in page.inner_text(".browse-list")

    page.click("[data-browse-import]")  # nothing ticked yet: said at once, nothing posted
    assert_seen(page, "[data-browse-pick-error]")
    assert "Tick at least one model file" in page.inner_text("[data-browse-pick-error]")
    page.check("[data-browse-file='models/Kitchen-Helper-Q4_K_M.gguf'] input")
    page.focus("[data-browse-file='models/Garden-Planner-Q8_0.gguf'] input")
    page.keyboard.press("Space")  # the keyboard ticks as well as the pointer
    assert page.is_checked("[data-browse-file='models/Garden-Planner-Q8_0.gguf'] input")
    assert page.inner_text("[data-browse-import]").strip() == "Import 2 selected"
    assert page.is_hidden("[data-browse-pick-error]")
    assert_no_sideways_scroll(page)
    assert_seen(page, "[data-browse-import]", fits=True)
    screenshot(page, f"models-browse-{size}")

    page.click("[data-browse-import]")
    page.wait_for_url("**/models/")
    assert "Importing 2 models" in page.inner_text("main")
    for name in ("Kitchen Helper", "Garden Planner"):
        card = f"[data-models-body] .job__title:text-is('{name}')"
        page.wait_for_selector(card, timeout=90_000)
        assert_seen(page, card)
    assert LocalModel.objects.filter(name__in=["Kitchen Helper", "Garden Planner"]).count() == 2
    assert_no_sideways_scroll(page)
    screenshot(page, f"models-browse-imported-{size}")
    assert page.problems == []
