"""No module of Hearth imports a heavy ML library when it is imported: each loads its library on first use.

So the web process (which imports views, services and models of every domain) never pays for them, and a
worker pays only for the capabilities it runs. New modules are covered without being listed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = [
    "torch",
    "llama_cpp",
    "open_clip",
    "chromadb",
    "sentence_transformers",
    "transformers",
    "faster_whisper",
    "whisper",
    "numba",
    "onnxruntime",
    "pypdf",
    "docx",
]
ENTRY_POINTS = ["config.asgi", "config.urls", "config.celery"]


def hearth_modules() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in sorted((root / "assistant").rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        if "migrations" in relative.parts or "management" in relative.parts:
            continue
        found.append(".".join(relative.parts).removesuffix(".__init__"))
    return ENTRY_POINTS + found


def test_importing_any_hearth_module_loads_no_ml_library(tmp_path: Path) -> None:
    modules = hearth_modules()
    assert "assistant.chat.views" in modules
    code = (
        "import django, importlib, json, sys; django.setup(); "
        f"[importlib.import_module(m) for m in {modules!r}]; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "HEARTH_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
