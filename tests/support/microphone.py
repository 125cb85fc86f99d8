"""A Chromium whose microphone plays a WAV file (espeak-ng speech), with the permission already granted.

    @pytest.fixture(scope="module", name="browser")
    def _browser(web_server: str) -> Iterator[Any]:
        with microphone_browser(speech=espeak_wav(text=..., path=...)) as browser:
            yield browser

The fake device loops the file for as long as the page records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.browser import chromium_launched


@contextmanager
def microphone_browser(*, speech: Path) -> Iterator[Any]:
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with chromium_launched(args=args) as instance:
        yield instance
