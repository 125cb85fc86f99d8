"""The owner's view of model files already on this machine (a USB stick, a download folder).

Only folders under HEARTH_IMPORT_ROOTS can be listed, and only through a root's number and a path
relative to it: an absolute path, a `..` or a link that leads outside the root is refused with a
message that says so. Every path is resolved (links followed) before it is compared with its root, so
a link inside a root that points elsewhere is never listed, never opened and never imported.

Nothing here reads more of a file than its directory entry: the checks of what is inside a file are
the importers' (importing.py for GGUF, assistant/voice/speech_models.py for Whisper).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings

from assistant.llm.cards import human_bytes
from assistant.llm.pairing import ModelRefused

# A folder with more entries than this shows the first ones (sorted) and says how many were left out.
MAX_ENTRIES = 500
KIND_LABELS = {
    "folder": "Folder",
    "gguf": "GGUF model",
    "whisper_folder": "Whisper model (faster-whisper folder)",
    "whisper_pt": "Whisper checkpoint (.pt)",
}
IMPORTABLE = frozenset({"gguf", "whisper_folder", "whisper_pt"})
# What a CTranslate2 Whisper folder (faster-whisper's format) holds at least.
CT2_FILES = ("model.bin", "config.json")


class BrowseRefused(ModelRefused):
    """The folder or file asked for can't be shown or imported; the message says why and what to do."""


@dataclass(frozen=True)
class ImportRoot:
    index: int  # its place in HEARTH_IMPORT_ROOTS: stable while some roots are missing
    path: Path  # resolved
    label: str  # as the setting names it


@dataclass(frozen=True)
class Entry:
    name: str
    relative: str  # from the root, with "/"; what the page sends back
    kind: str
    size: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def size_label(self) -> str:
        return human_bytes(self.size) if self.kind != "folder" else ""

    @property
    def importable(self) -> bool:
        return self.kind in IMPORTABLE


@dataclass(frozen=True)
class Listing:
    root: ImportRoot
    relative: str  # "" for the root itself
    entries: list[Entry]
    left_out: int

    @property
    def crumbs(self) -> list[tuple[str, str]]:
        """(name, relative path) of each folder from the root down to this one."""
        parts = PurePosixPath(self.relative).parts if self.relative else ()
        return [("/".join(parts[: i + 1]), part) for i, part in enumerate(parts)]

    @property
    def parent(self) -> str | None:
        if not self.relative:
            return None
        parent = str(PurePosixPath(self.relative).parent)
        return "" if parent == "." else parent


@dataclass(frozen=True)
class Selected:
    path: Path  # resolved, inside root
    root: Path
    kind: str


def import_roots() -> list[ImportRoot]:
    """The configured roots that exist now (a stick mounted later appears on the next visit)."""
    roots: list[ImportRoot] = []
    for index, configured in enumerate(settings.HEARTH_IMPORT_ROOTS):
        resolved = Path(os.path.realpath(configured))
        if any(root.path == resolved for root in roots):
            continue  # the same folder twice (a link to it): shown once
        if resolved.is_dir() and os.access(resolved, os.R_OK | os.X_OK):
            roots.append(ImportRoot(index=index, path=resolved, label=str(configured)))
    return roots


def _root(value: str) -> ImportRoot:
    for root in import_roots():
        if str(root.index) == value.strip():
            return root
    raise BrowseRefused("That folder is not one Hearth may look in. Choose one of the folders listed on the page.")


def browse_resolve(*, root: str, path: str) -> tuple[ImportRoot, Path]:
    """The resolved path of `path` (relative to the root numbered `root`); BrowseRefused when it is not
    inside that root once every link is followed, or does not exist."""
    base = _root(root)
    text = path.strip()
    if "\x00" in text:
        raise BrowseRefused("That path has a character no file name can have.")
    if text.startswith(("/", "\\", "~")) or PurePosixPath(text).is_absolute():
        raise BrowseRefused(
            f"“{text}” is a full path. Hearth only opens folders inside {base.label}: browse to it from there."
        )
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts:
        raise BrowseRefused(f"“..” is not allowed in a path. Use the folder links to go up, within {base.label}.")
    resolved = Path(os.path.realpath(base.path.joinpath(*parts)))
    if not resolved.is_relative_to(base.path):
        raise BrowseRefused(
            f"“{text}” leads outside {base.label} (it is a link to {resolved.parent}), so Hearth won't open it."
        )
    if not resolved.exists():
        raise BrowseRefused(f"There is no “{text}” in {base.label} any more. Was the USB stick removed?")
    return base, resolved


def entry_kind(path: Path) -> str | None:
    """What a resolved path is to the importer: a folder to open, a model to import, or nothing (None)."""
    if path.is_dir():
        return "whisper_folder" if all((path / name).is_file() for name in CT2_FILES) else "folder"
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    return {".gguf": "gguf", ".pt": "whisper_pt"}.get(suffix)


def folder_size(path: Path) -> int:
    """The bytes of a model folder's own files (what an import copies)."""
    total = 0
    for child in path.iterdir():
        if child.is_file() and not child.name.startswith("."):
            total += child.stat().st_size
    return total


def _entry(root: ImportRoot, folder_relative: PurePosixPath, child: Path) -> Entry | None:
    resolved = Path(os.path.realpath(child))
    if not resolved.is_relative_to(root.path):
        return None  # a link out of the root: never shown
    kind = entry_kind(resolved)
    if kind is None:
        return None
    size = resolved.stat().st_size if kind in ("gguf", "whisper_pt") else 0
    if kind == "whisper_folder":
        size = folder_size(resolved)
    relative = str(folder_relative / child.name) if str(folder_relative) != "." else child.name
    return Entry(name=child.name, relative=relative, kind=kind, size=size)


def folder_list(*, root: str, path: str = "") -> Listing:
    """The folders and importable files in one folder under a root, folders first, by name."""
    base, folder = browse_resolve(root=root, path=path)
    if not folder.is_dir():
        raise BrowseRefused(f"{folder.name} is a file, not a folder. Tick it in its folder's list to import it.")
    relative = PurePosixPath(folder.relative_to(base.path).as_posix())
    try:
        children = sorted(
            (child for child in folder.iterdir() if not child.name.startswith(".")), key=lambda c: c.name.lower()
        )
    except PermissionError as exc:
        raise BrowseRefused(f"Hearth is not allowed to open {folder.name}. Check the folder's permissions.") from exc
    entries: list[Entry] = []
    for child in children:
        try:
            entry = _entry(base, relative, child)
        except OSError:
            continue  # unreadable or vanished: not shown
        if entry is not None:
            entries.append(entry)
    entries.sort(key=lambda e: (e.kind != "folder", e.name.lower()))
    shown = "" if str(relative) == "." else str(relative)
    return Listing(
        root=base, relative=shown, entries=entries[:MAX_ENTRIES], left_out=max(0, len(entries) - MAX_ENTRIES)
    )


def import_selection_check(*, root: str, paths: list[str]) -> list[Selected]:
    """The model files and folders the owner ticked, each checked to be inside the root and importable."""
    cleaned = list(dict.fromkeys(p for p in paths if p.strip()))
    if not cleaned:
        raise BrowseRefused("Tick at least one model file to import.")
    chosen: list[Selected] = []
    for text in cleaned:
        base, resolved = browse_resolve(root=root, path=text)
        kind = entry_kind(resolved)
        if kind not in IMPORTABLE:
            raise BrowseRefused(
                f"{resolved.name} is not a model Hearth can import: choose .gguf files, Whisper .pt "
                "checkpoints or faster-whisper model folders."
            )
        chosen.append(Selected(path=resolved, root=base.path, kind=str(kind)))
    return chosen
