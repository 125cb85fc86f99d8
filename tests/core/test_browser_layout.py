"""Every page at 1366x850 and 390x844, as a person sees it: the controls that matter are shown
(opaque, uncovered, inside the window), header controls do not overlap, nothing scrolls sideways.
Each test also leaves a screenshot (tests/support/layout.py says where) to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.template.defaultfilters import filesizeformat

from assistant.models import Conversation, Document, Job, Message
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import (
    SIZES,
    assert_apart,
    assert_no_sideways_scroll,
    assert_seen,
    open_at_fixture,  # noqa: F401
    screenshot,
)
from tests.support.services import chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPBAR = [".topbar__menu", ".topbar .brand", ".topbar .theme-toggle"]
CHAT_HEAD = [
    ".chat-head__list",
    ".chat-head__title",
    "#chat-model",
    "#chat-persona",
    ".chat-docs__toggle",
    ".chat-sampling__toggle",
    "[data-settings-panel] > summary",
]


def _conversation(owner: Any) -> Conversation:
    conversation = Conversation.objects.create(owner=owner, title="Boiler questions")
    Message.objects.create(conversation=conversation, role="user", content="What pressure should the boiler have?")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="Between **1 and 1.5 bar** when the heating is cold.",
        model_name="Tiny llama3",
        prompt_tokens=40,
        completion_tokens=12,
        context_size=4096,
        tokens_per_second=42.5,
    )
    return conversation


@pytest.mark.parametrize("size", SIZES)
def test_chat_answer_actions_and_header_controls_are_shown(
    alice: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    conversation = _conversation(alice)
    page = open_at(alice, f"/chat/{conversation.pk}/", size)
    answer = ".msg--assistant"
    page.locator(f"{answer}[data-state='complete']").wait_for()

    for control in ["[data-act='copy']", "[data-act='regenerate']"]:
        assert_seen(page, f"{answer} {control}", fits=True)
    assert_seen(page, f"{answer} [data-field='stats']")
    assert "42.5 tokens/s" in page.inner_text(f"{answer} [data-field='stats']")
    for control in CHAT_HEAD[1:] if size == "laptop" else CHAT_HEAD:
        assert_seen(
            page, control, fits=control.startswith((".chat-docs", ".chat-sampling", "[data-settings")), scroll=False
        )
    assert "Documents" in page.inner_text(".chat-docs__toggle")
    assert_apart(page, CHAT_HEAD + TOPBAR)
    assert_seen(page, "[data-composer-text]")
    assert_seen(page, "[data-send]")
    assert_no_sideways_scroll(page)
    screenshot(page, f"chat-{size}")

    # The keyboard reaches Copy on the answer, and it is there to see when it has focus.
    page.focus(f"{answer} [data-act='copy']")
    assert_seen(page, f"{answer} [data-act='copy']", fits=True)

    page.click(".chat-docs__toggle")
    assert_seen(page, ".chat-docs__panel")
    assert_no_sideways_scroll(page)
    screenshot(page, f"chat-documents-open-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_jobs_rows_and_their_actions_are_shown(alice: Any, open_at: Any, size: str) -> None:
    Job.objects.create(
        owner=alice, kind="selfcheck", title="System check", status="succeeded", progress=1.0, message="All good"
    )
    Job.objects.create(
        owner=alice,
        kind="selfcheck",
        title="System check",
        status="failed",
        error="Redis did not answer within 5 seconds.",
    )
    running = Job.objects.create(
        owner=alice, kind="selfcheck", title="System check", status="running", progress=0.4, message="Checking the disk"
    )
    page = open_at(alice, "/jobs/", size)

    assert_seen(page, "h1")
    assert_seen(page, "[data-jobs-when-any] button", fits=True, scroll=False)
    row = f"[data-job-id='{running.pk}']"
    assert_seen(page, f"{row} [data-field='title']")
    assert_seen(page, f"{row} [data-job-action='cancel'] button", fits=True)
    assert_seen(page, "li.job--failed [data-field='error']")
    assert_seen(page, "li.job--failed [data-job-action='retry'] button", fits=True)
    assert_apart(page, TOPBAR)
    assert_no_sideways_scroll(page)
    screenshot(page, f"jobs-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_documents_upload_and_rows_are_shown(alice: Any, open_at: Any, size: str) -> None:
    common = {"owner": alice, "file": "documents/x", "kind": "pdf"}
    Document.objects.create(
        name="Boiler manual.pdf",
        size_bytes=1_572_864,
        sha256="1" * 64,
        status="ready",
        page_count=12,
        chunk_count=40,
        **common,
    )
    Document.objects.create(
        name="A very long file name from the scanner 2026-11-30 0001.pdf",
        size_bytes=4096,
        sha256="2" * 64,
        status="failed",
        error="This PDF has no text layer.",
        **common,
    )
    page = open_at(alice, "/documents/", size)

    assert_seen(page, "#doc-search-q")
    assert_seen(page, "#doc-files")
    assert_seen(page, "#doc-folder")
    ready = page.locator("[data-documents-list] li", has_text="Boiler manual.pdf")
    assert ready.locator("[data-field='size']").inner_text() == filesizeformat(1_572_864)
    # Sizes the page script writes (uploads, live rows) read exactly as the server's.
    sizes = [0, 1, 1023, 1024, 1_572_864, 200 * 1024**2, 5 * 1024**3 + 1, 3 * 1024**4]
    written = page.evaluate("(sizes) => import('/static/js/lib.js').then((lib) => sizes.map(lib.humanBytes))", sizes)
    assert written == [filesizeformat(size) for size in sizes]
    assert_seen(page, "[data-documents-list] li[data-status='ready'] [data-doc-action='reindex'] button", fits=True)
    assert_seen(page, "[data-documents-list] li[data-status='failed'] [data-field='error']")
    assert_seen(page, "[data-documents-list] li[data-status='failed'] [data-doc-action='delete'] button", fits=True)
    assert_no_sideways_scroll(page)
    screenshot(page, f"documents-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_models_page_cards_and_import_are_shown(
    olivia: Any, tiny_models: dict[str, Path], open_at: Any, size: str
) -> None:
    chat_model_add(tiny_models["llama3"])
    page = open_at(olivia, "/models/", size)

    assert_seen(page, "h1")
    assert_seen(page, "[data-upload-form] input[type='file']")
    assert_seen(page, "[data-upload-form] button[type='submit']", fits=True)
    assert_seen(page, "[data-browse-entry] a[href='/models/browse/']", fits=True)
    page.click(".advanced-path > summary")
    assert_seen(page, "[data-path-form] input[name='path']")
    assert_seen(page, "[data-models-body] h3, [data-models-body] .model__name")
    assert_no_sideways_scroll(page)
    screenshot(page, f"models-{size}")
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "path", ["/settings/", "/household/", "/chat/personas/", "/chat/search/?q=boiler", "/documents/search/?q=boiler"]
)
def test_other_pages_fit_the_window(olivia: Any, open_at: Any, size: str, path: str) -> None:
    page = open_at(olivia, path, size)
    assert_seen(page, "h1")
    if size == "phone":
        assert_seen(page, ".topbar__menu", scroll=False)
    assert_apart(page, TOPBAR)
    assert_no_sideways_scroll(page)
    name = path.strip("/").split("?")[0].replace("/", "-")
    screenshot(page, f"{name}-{size}")
    assert page.problems == []
