"""The page scripts stay small ES modules that share one helper module instead of copying helpers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js"))
# Helpers that live once, in lib.js (or socket.js, which lib.js re-exports); page scripts import them.
SHARED = ["setText", "announce", "urlFor", "humanBytes", "csrfToken", "readCookie", "toast", "postForm", "upload"]
CLASSIC = {"theme.js"}  # loaded in <head> before the first paint, so not a module


def test_no_script_is_over_400_lines() -> None:
    long = {path.name: n for path in SCRIPTS if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}


def test_shared_helpers_are_defined_once_in_lib() -> None:
    for path in SCRIPTS:
        if path.name == "lib.js":
            continue
        text = path.read_text()
        copies = [name for name in SHARED if re.search(rf"function {name}\b|\b{name} = (\(|function)", text)]
        assert copies == [], f"{path.name} defines its own {copies}: import them from lib.js"
        assert "new XMLHttpRequest" not in text, f"{path.name}: use upload() from lib.js"


def test_page_scripts_are_modules_loaded_as_modules() -> None:
    templates = "\n".join(path.read_text() for path in (ROOT / "templates").rglob("*.html"))
    for path in SCRIPTS:
        tags = re.findall(rf"<script[^>]*js/{re.escape(path.name)}[^>]*>", templates)
        if path.name in CLASSIC:
            assert tags, path.name
            assert all("type=" not in tag for tag in tags), tags
        elif path.name in ("lib.js", "socket.js", "recorder.js") or path.name.startswith("chat_"):
            assert tags == [], f"{path.name} is imported, never loaded by a tag (one instance per page)"
        else:
            assert tags, f"{path.name} is loaded by no page"
            assert all('type="module"' in tag for tag in tags), tags
