"""Voice notes in a real browser: Chromium's fake microphone plays espeak-ng speech into MediaRecorder,
the real worker transcribes it with progress, and a click on a segment seeks the player.

Set HEARTH_SCREENSHOTS to a folder to keep screenshots at 1366x850 and 390x844.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.jobs.models import JobEvent
from assistant.voice.models import Segment, VoiceNote
from tests.environment import TEST_DATA_DIR
from tests.support.browser import PHONE, open_page_fixture, web_server_fixture  # noqa: F401
from tests.support.microphone import microphone_browser
from tests.support.services import WorkerProcess
from tests.support.speech import espeak_wav
from tests.support.voice import voice_collections_drop

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("HEARTH_SCREENSHOTS", "")
LAPTOP = {"width": 1366, "height": 850}
SPOKEN = "The boiler in the kitchen needs a new pressure valve. Call the plumber on Monday morning."


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module", name="browser")
def speaking_browser(web_server: str) -> Iterator[Any]:
    """Chromium whose microphone plays espeak-ng speech, with the permission already granted."""
    with microphone_browser(speech=espeak_wav(text=SPOKEN, path=TEST_DATA_DIR / "fake-microphone.wav")) as browser:
        yield browser


@pytest.fixture(autouse=True)
def _voice_vectors(chroma_server: str) -> None:
    voice_collections_drop()


def test_record_watch_it_transcribe_and_seek_from_a_segment(alice: Any, worker: WorkerProcess, open_page: Any) -> None:
    page = open_page(alice, "/voice/", viewport=LAPTOP)
    page.wait_for_function("() => window.Hearth && window.Hearth.connected()")
    record = page.get_by_role("button", name="Record")
    assert record.is_visible()
    page.select_option("#rec-model", "tiny.en")
    page.fill("#rec-title", "Kitchen note")
    record.click()
    page.get_by_text("Recording…").wait_for()
    page.wait_for_function("() => document.querySelector('[data-rec-timer]').textContent >= '0:02'")
    assert page.evaluate("() => parseFloat(document.querySelector('[data-rec-level]').style.inlineSize) > 0")
    _shot(page, "voice-recording-laptop")
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Paused.").wait_for()
    paused_at = page.locator("[data-rec-timer]").inner_text()
    page.wait_for_timeout(1200)
    assert page.locator("[data-rec-timer]").inner_text() == paused_at  # the timer stops while paused
    page.get_by_role("button", name="Resume").click()
    page.wait_for_function("() => document.querySelector('[data-rec-timer]').textContent >= '0:07'", timeout=20_000)
    page.get_by_role("button", name="Stop and transcribe").click()

    page.wait_for_url("**/voice/*/", timeout=30_000)
    note = VoiceNote.objects.get(owner=alice)
    assert note.content_type == "audio/webm"
    progress = page.locator("[data-note-progress]")
    if progress.count():  # the worker may finish before the page first paints
        _shot(page, "voice-transcribing-laptop")
    page.locator("[data-note-status]", has_text="Ready").wait_for(timeout=120_000)
    messages = JobEvent.objects.filter(job_id=note.job_id).values_list("message", flat=True)
    assert any(message.startswith("Transcribed 0:0") for message in messages)  # the progress the page was sent
    segments = page.locator(".voice-seg")
    assert segments.count() >= 1
    assert "boiler" in page.locator("[data-transcript]").inner_text().lower()

    last = Segment.objects.filter(note=note).order_by("-number").first()
    assert last is not None
    target = page.locator(f"#s{last.number}")
    target.locator("[data-seek]").click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-player]').currentTime - {last.start}) < 1.5", timeout=10_000
    )
    assert "voice-seg--current" in (target.get_attribute("class") or "")
    assert target.is_visible()
    _shot(page, "voice-note-laptop")
    assert page.problems == []

    if SCREENSHOTS:
        phone = open_page(alice, f"/voice/{note.pk}/?t={int(last.start)}", viewport=PHONE)
        phone.locator(f"#s{last.number}.voice-seg--current").wait_for()
        _shot(phone, "voice-note-phone")
        _shot(open_page(alice, "/voice/", viewport=PHONE), "voice-list-phone")
        _shot(open_page(alice, "/voice/", viewport=LAPTOP), "voice-list-laptop")


def test_where_the_microphone_is_hidden_the_page_says_why(
    alice: Any, open_page: Any, browser: Any, web_server: str
) -> None:
    page = open_page(alice, "/voice/", viewport=PHONE)
    page.context.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false});")
    page.reload()
    blocked = page.locator("[data-recorder-blocked]")
    blocked.wait_for()
    assert "Recording needs a secure connection." in blocked.inner_text()
    assert "upload the file below" in blocked.inner_text()
    assert (
        page.get_by_role("button", name="Record").count() == 0
        or not page.get_by_role("button", name="Record").is_visible()
    )
    assert page.get_by_label("Audio file").is_visible()
    _shot(page, "voice-insecure-phone")
