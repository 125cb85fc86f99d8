"""The owner gives a model a readable name on the Models page (issue 12, item 8), at 1366x850 and 390x844."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.models import LocalModel
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.services import chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", SIZES)
def test_the_owner_renames_a_model(olivia: Any, tiny_models: dict[str, Path], open_at: Any, size: str) -> None:
    model = chat_model_add(tiny_models["llama3"])
    page = open_at(olivia, "/models/", size)
    card = f"#model-{model.pk}"

    page.click(f"{card} .model-rename > summary")
    field = f"{card} input[name='name']"
    assert_seen(page, field)
    page.fill(field, "   ")
    page.click(f"{card} .model-rename__form button[type='submit']")
    page.wait_for_url("**/models/")
    assert "Give the model a name" in page.inner_text("main")  # refused, and the name is kept
    assert LocalModel.objects.get(pk=model.pk).name == "Tiny llama3"

    page.click(f"{card} .model-rename > summary")
    page.fill(field, "  Tiny   Llama 3 ")
    page.click(f"{card} .model-rename__form button[type='submit']")
    page.wait_for_url("**/models/")
    assert_seen(page, f"{card} .job__title")
    assert page.inner_text(f"{card} .job__title") == "Tiny Llama 3"
    assert LocalModel.objects.get(pk=model.pk).name == "Tiny Llama 3"
    assert_no_sideways_scroll(page)
    screenshot(page, f"models-renamed-{size}")
    assert page.problems == []
