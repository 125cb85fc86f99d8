"""The Documents page in a real browser: upload, live indexing by the worker, search, and a citation link."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assistant.models import Document
from tests.support.browser import (  # noqa: F401
    PHONE,
    browser_fixture,
    open_page_fixture,
    web_server_fixture,
    web_server_models,
)
from tests.support.documents import ELF_PROGRAM, filler, pdf_bytes
from tests.support.services import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PAGES = [
    ["Household manual", "This manual covers the appliances in the house.", filler("the kitchen", 3)],
    ["Heating", "The boiler pressure should be 1.5 bar when the heating is cold.", filler("the heating", 3)],
    ["Garden", "The lawn mower needs fresh petrol every spring.", filler("the garden", 3)],
]
# Set to a folder to keep screenshots of the pages at laptop and phone widths.
SCREENSHOTS = os.environ.get("HEARTH_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_upload_watch_it_index_search_and_open_the_cited_page(
    alice: Any, worker: WorkerProcess, open_page: Any, tmp_path: Path
) -> None:
    manual = tmp_path / "Manual.pdf"
    manual.write_bytes(pdf_bytes(PAGES))
    program = tmp_path / "program.pdf"
    program.write_bytes(ELF_PROGRAM)

    page = open_page(alice, "/documents/")
    assert page.locator("[data-documents-empty]").is_visible()
    _shot(page, "documents-empty-laptop")
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    page.set_input_files("#doc-files", [str(program), str(manual)])

    refused = page.locator("[data-documents-list] li[data-status='refused']")
    refused.wait_for()
    assert "program.pdf" in refused.locator("[data-field='error']").inner_text()

    row = page.locator("[data-documents-list] li", has_text="Manual.pdf")
    row.locator("[data-field='status']", has_text="Ready").wait_for(timeout=120_000)
    assert row.get_attribute("data-status") == "ready"
    assert row.locator("[data-field='pages']").inner_text() == "3 pages"
    assert not row.locator("[data-doc-action='reindex']").is_hidden()
    document = Document.objects.get(owner=alice)
    assert row.get_attribute("data-document-id") == str(document.pk)
    _shot(page, "documents-list-laptop")

    page.fill("#doc-search-q", "boiler pressure")
    page.press("#doc-search-q", "Enter", timeout=90_000)
    result = page.locator(".doc-result").first
    result.wait_for(timeout=90_000)
    assert "Manual.pdf, page 2" in result.inner_text()
    assert result.locator("mark", has_text="boiler").count() >= 1
    _shot(page, "documents-search-laptop")
    assert web_server_models(page) == []  # the query worker embedded the search (jobs.remote)
    result.locator("a.doc-result__cite").click()

    page.wait_for_url(f"**/documents/{document.pk}/?page=2#p2")
    target = page.locator("#p2")
    assert "doc-chunk--current" in (target.get_attribute("class") or "")
    assert "1.5 bar" in target.inner_text()
    assert target.is_visible()
    assert page.evaluate("() => document.querySelector('#p2').getBoundingClientRect().top < window.innerHeight")
    _shot(page, "document-detail-laptop")
    # The one refused upload is logged by the browser as a failed request; nothing else may be.
    assert [problem for problem in page.problems if "status of 400" not in problem] == []

    if SCREENSHOTS:
        for path, name in [("/documents/", "documents-list"), (f"/documents/{document.pk}/?page=2#p2", "document")]:
            phone = open_page(alice, path, viewport=PHONE)
            _shot(phone, f"{name}-phone")
        dark = open_page(alice, "/documents/search/?q=boiler", color_scheme="dark")
        _shot(dark, "documents-search-dark")
