"""A Chromium whose microphone plays a WAV file (espeak-ng speech), with the permission already granted.

    @pytest.fixture(scope="module", name="browser")
    def _browser(web_server: str) -> Iterator[Any]:
        with microphone_browser(speech=espeak_wav(text=..., path=...)) as browser:
            yield browser

The fake device loops the file for as long as the page records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.browser import ASYNC_UNSAFE, CHROMIUM, CHROMIUM_ARGS


@contextmanager
def microphone_browser(*, speech: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous
