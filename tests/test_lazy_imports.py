"""The web process and the task modules never import the heavy ML libraries."""

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
    "onnxruntime",
    "pypdf",
    "docx",
]
WEB_AND_TASK_MODULES = [
    "config.asgi",
    "config.urls",
    "config.celery",
    "assistant.tasks",
    "assistant.consumers",
    "assistant.services.runner",
    "assistant.services.jobs",
    "assistant.services.selfcheck",
    "assistant.services.documents",
    "assistant.documents.store",
    "assistant.documents.embed",
    "assistant.views.documents",
    "assistant.services.chat",
    "assistant.views.chat",
]


def test_web_and_task_modules_do_not_import_ml_libraries(tmp_path: Path) -> None:
    code = (
        "import django, importlib, json, sys; django.setup(); "
        f"[importlib.import_module(m) for m in {WEB_AND_TASK_MODULES!r}]; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "HEARTH_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
