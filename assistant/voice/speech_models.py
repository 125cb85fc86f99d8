"""The household's speech models: the packaged Whisper base and tiny.en, the Whisper models the owner
imports, and which one new voice notes use.

An import is a job (`speech_import`, on the media queue where Whisper already runs): it copies the
`.pt` checkpoint or the faster-whisper folder into MODELS_DIR/.incoming, loads it with the library
that will run it (a checkpoint through torch's weights-only loader, so a file can't run code), moves
it to MODELS_DIR/whisper/ and only then writes its row. A file that doesn't load is refused with the
library's reason and nothing of it is kept. The web process never imports torch or faster-whisper.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from assistant.core.default_models import SPEECH
from assistant.core.storage import path_remove
from assistant.llm.cards import RamFit, human_bytes, human_count, machine_ram_bytes, ram_fit
from assistant.llm.library import COPY_CHUNK_BYTES, incoming_dir, models_dir
from assistant.llm.pairing import ModelRefused
from assistant.models import Job
from assistant.voice.models import ImportedSpeechModel, SpeechDefault, SpeechEngineKind
from assistant.voice.weights import BASE_FILES, MODELS

if TYPE_CHECKING:
    from assistant.jobs.runner import JobContext

SPEECH_IMPORT_KIND = "speech_import"
FOLDER_NAME = "whisper"
# Files of a faster-whisper folder worth copying; anything else in the folder (READMEs, .git) stays behind.
CT2_NEEDED = ("model.bin", "config.json", "tokenizer.json")
CT2_OPTIONAL = ("vocabulary.txt", "vocabulary.json", "preprocessor_config.json", "tokenizer_config.json")
# Memory beyond the weights: the runtime, the audio window, the decoder's cache (measured loosely on base).
CT2_OVERHEAD = 150 * 1000**2
PT_OVERHEAD = 400 * 1000**2
_UNSAFE = re.compile(r"[^A-Za-z0-9._+\-]+")
_HASH = re.compile(r"[0-9a-f]{40}")


class SpeechRefused(ModelRefused):
    """The speech model can't be imported or chosen; the message says why and what to do."""


# --- what the Models page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechCard:
    key: str  # "base", "tiny.en", or an imported model's path: what voice notes record
    name: str
    engine: str
    size: str
    ram_needed: str
    fit: RamFit
    multilingual: bool
    is_default: bool
    installed: bool = True
    row_id: int | None = None


def speech_ram_bytes(*, engine: str, size_bytes: int, parameters: int = 0) -> int:
    """Memory to run a Whisper model: int8 weights for faster-whisper, fp32 for a .pt checkpoint."""
    if engine == SpeechEngineKind.PT:
        weights = parameters * 4 if parameters else size_bytes * 2  # OpenAI's files are fp16
        return weights + PT_OVERHEAD
    return size_bytes + CT2_OVERHEAD


def _packaged_cards(default: str, total: int) -> list[SpeechCard]:
    from assistant.core.default_models import package_dir
    from assistant.voice.weights import BASE_PART_PACKAGES

    sizes = {"base": sum(size for size, _ in BASE_FILES.values()), "tiny.en": sum(f.size for f in SPEECH.files)}
    installed = {
        "base": all(package_dir(name) is not None for name in BASE_PART_PACKAGES),
        "tiny.en": SPEECH.path() is not None,
    }
    cards = []
    for name, model in MODELS.items():
        ram = speech_ram_bytes(engine=SpeechEngineKind.CT2, size_bytes=sizes[name])
        cards.append(
            SpeechCard(
                key=name,
                name=model.title,
                engine="faster-whisper, comes with Hearth",
                size=human_bytes(sizes[name]),
                ram_needed=human_bytes(ram),
                fit=ram_fit(needed=ram, total=total),
                multilingual=model.multilingual,
                is_default=default == name,
                installed=installed[name],
            )
        )
    return cards


def speech_cards() -> list[SpeechCard]:
    """Every speech model, packaged first, with its size, the memory it needs and whether it is the default."""
    default, total = speech_default_name(), machine_ram_bytes()
    cards = _packaged_cards(default, total)
    for row in ImportedSpeechModel.objects.all():
        ram = speech_ram_bytes(engine=row.engine, size_bytes=row.size_bytes, parameters=row.parameters)
        engine = row.get_engine_display()
        cards.append(
            SpeechCard(
                key=row.path,
                name=row.name,
                engine=f"{engine}, {human_count(row.parameters)} parameters" if row.parameters else engine,
                size=human_bytes(row.size_bytes),
                ram_needed=human_bytes(ram),
                fit=ram_fit(needed=ram, total=total),
                multilingual=row.multilingual,
                is_default=default == row.path,
                row_id=row.pk,
            )
        )
    return cards


# --- the household's default ----------------------------------------------------------------------


def _known(model: str) -> bool:
    return model in MODELS or ImportedSpeechModel.objects.filter(path=model).exists()


def speech_default_name() -> str:
    """The model new voice notes use: the owner's choice, else HEARTH_VOICE_MODEL."""
    chosen = SpeechDefault.objects.filter(pk=1).values_list("model", flat=True).first()
    return chosen if chosen and _known(chosen) else str(settings.HEARTH_VOICE_MODEL)


def speech_default_set(*, model: str) -> str:
    if not _known(model):
        raise SpeechRefused("That speech model is not on this machine any more. Choose one from the list.")
    SpeechDefault.objects.update_or_create(pk=1, defaults={"model": model})
    return model


def speech_model_choice(model: str | None) -> str:
    """The model a new note asked for, when Hearth has it; else the household's default."""
    return model if model and _known(model) else speech_default_name()


def speech_choices() -> list[tuple[str, str]]:
    """(value, label) for the voice pages' model menu, the household's default first."""
    choices = [(name, model.title) for name, model in MODELS.items()]
    choices += [(row.path, f"{row.name} (imported)") for row in ImportedSpeechModel.objects.all()]
    default = speech_default_name()
    return sorted(choices, key=lambda choice: choice[0] != default)


def speech_model_delete(*, model: ImportedSpeechModel) -> None:
    """Forget an imported model and remove its files (only ever inside MODELS_DIR/whisper)."""
    path = Path(model.path)
    if path.parent == speech_folder():
        path_remove(path)
    SpeechDefault.objects.filter(pk=1, model=model.path).delete()
    model.delete()


# --- importing --------------------------------------------------------------------------------------


def speech_folder() -> Path:
    return models_dir() / FOLDER_NAME


def _readable_name(source: Path) -> str:
    """large-v3 for large-v3.pt; faster-whisper-small for a Hugging Face cache folder
    models--Systran--faster-whisper-small/snapshots/<hash>."""
    if source.suffix.lower() == ".pt":
        return source.stem
    if _HASH.fullmatch(source.name) and source.parent.name == "snapshots":
        return source.parent.parent.name.rsplit("--", 1)[-1]
    return source.name


def speech_import_start(*, owner: Any, source: Path, root: Path) -> Job:
    """Queue the import of a `.pt` file or a faster-whisper folder that the owner chose under `root`."""
    from assistant.jobs.services import job_create

    engine = SpeechEngineKind.PT if source.is_file() else SpeechEngineKind.CT2
    if engine == SpeechEngineKind.CT2:
        missing = [name for name in CT2_NEEDED if not (source / name).is_file()]
        if missing:
            raise SpeechRefused(
                f"{source.name} is not a complete faster-whisper model folder: {', '.join(missing)} is missing. "
                "Copy the whole folder (model.bin, config.json, tokenizer.json, vocabulary) and try again."
            )
    return job_create(
        owner=owner,
        kind=SPEECH_IMPORT_KIND,
        title=f"Import the speech model {_readable_name(source)}"[:200],
        payload={"source": str(source), "root": str(root), "engine": str(engine)},
    )


def _source_check(payload: dict[str, Any]) -> tuple[Path, str]:
    """The job's source, checked again inside its root (a link may have changed since the owner chose it)."""
    root = Path(str(payload.get("root", "")))
    source = Path(os.path.realpath(str(payload.get("source", ""))))
    engine = str(payload.get("engine", ""))
    if not root.is_absolute() or not source.is_relative_to(root):
        raise SpeechRefused(f"{source} is outside the folders Hearth may import from.")
    if not source.exists():
        raise SpeechRefused(f"{source} is no longer on this machine. Was the USB stick removed?")
    return source, engine


def _files_to_copy(source: Path, engine: str) -> list[tuple[Path, str]]:
    """(the file to read, links followed; the name it gets in the copy)."""
    if engine == SpeechEngineKind.PT:
        return [(source, "model.pt")]
    names = [*CT2_NEEDED, *(name for name in CT2_OPTIONAL if (source / name).is_file())]
    files = [(Path(os.path.realpath(source / name)), name) for name in names]
    for path, name in files:
        if not path.is_file():
            raise SpeechRefused(f"{source.name} has no {name}. Copy the whole model folder and try again.")
    return files


def _copy(files: list[tuple[Path, str]], target: Path, context: JobContext) -> None:
    total = sum(path.stat().st_size for path, _ in files)
    free = shutil.disk_usage(models_dir()).free
    if total + 256 * 1024**2 > free:
        raise SpeechRefused(
            f"Not enough free disk space: the model needs {human_bytes(total)}, {human_bytes(free)} free."
        )
    done, reported = 0, 0.0
    for source, name in files:
        with source.open("rb") as reader, (target / name).open("wb") as writer:
            while chunk := reader.read(COPY_CHUNK_BYTES):
                writer.write(chunk)
                done += len(chunk)
                if time.monotonic() - reported >= 0.5:
                    context.progress(
                        0.7 * done / max(1, total), f"Copying: {human_bytes(done)} of {human_bytes(total)}"
                    )
                    reported = time.monotonic()
            writer.flush()
            os.fsync(writer.fileno())


@dataclass(frozen=True)
class LoadedInfo:
    multilingual: bool
    parameters: int


def speech_model_load_check(*, path: Path, engine: str, label: str) -> LoadedInfo:
    """Load the model as Hearth will run it; SpeechRefused (naming it `label`) with the library's reason."""
    try:
        return _load_pt(path, label) if engine == SpeechEngineKind.PT else _load_ct2(path)
    except SpeechRefused:
        raise
    except Exception as exc:  # whatever the library raises for a damaged or foreign file
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        what = "an OpenAI Whisper checkpoint" if engine == SpeechEngineKind.PT else "a faster-whisper model"
        raise SpeechRefused(
            f"{label} could not be loaded as {what}: {reason}. Check that the file is complete and is a "
            "Whisper model (.pt from OpenAI, or a folder converted for faster-whisper)."
        ) from exc


def _load_pt(path: Path, label: str) -> LoadedInfo:
    import torch
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or not {"dims", "model_state_dict"} <= set(checkpoint):
        raise SpeechRefused(
            f"{label} is a PyTorch file but not an OpenAI Whisper checkpoint (it has no “dims” and "
            "“model_state_dict”). Use the .pt files OpenAI publishes, such as small.pt or large-v3.pt."
        )
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    return LoadedInfo(multilingual=bool(model.is_multilingual), parameters=sum(p.numel() for p in model.parameters()))


def _load_ct2(path: Path) -> LoadedInfo:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=1)
    return LoadedInfo(multilingual=bool(model.model.is_multilingual), parameters=0)


def _place(staged: Path, name: str, suffix: str) -> Path:
    folder = speech_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stem = _UNSAFE.sub("-", name).strip(".-")[:100] or "whisper"
    for number in range(1, 1000):
        target = folder / f"{stem if number == 1 else f'{stem}-{number}'}{suffix}"
        if not target.exists() and not ImportedSpeechModel.objects.filter(path=str(target)).exists():
            os.rename(staged, target)
            return target
    raise SpeechRefused(f"There are already too many speech models named like {stem}.")


def _stage(source: Path, engine: str, context: JobContext) -> tuple[Path, Path]:
    """(the staging folder, the model inside it: a .pt file or a folder) after copying."""
    staging = incoming_dir() / f"speech-{context.job.pk}"
    path_remove(staging)  # an earlier attempt's leftovers
    model = staging / ("model.pt" if engine == SpeechEngineKind.PT else "model")
    model.parent.mkdir(mode=0o700)
    if engine == SpeechEngineKind.CT2:
        model.mkdir()
    _copy(_files_to_copy(source, engine), model if engine == SpeechEngineKind.CT2 else staging, context)
    return staging, model


def speech_import_run(context: JobContext) -> str:
    """The SPEECH_IMPORT job: copy, load, put in place, register. On any failure nothing is kept."""
    from assistant.jobs.runner import JobFailed

    placed: Path | None = None
    staging: Path | None = None
    try:
        source, engine = _source_check(context.job.payload)
        context.progress(0.0, "Copying")
        staging, model = _stage(source, engine, context)
        context.progress(0.75, "Loading it to check it")
        info = speech_model_load_check(path=model, engine=engine, label=source.name)
        context.progress(0.95, "Adding it to the speech models")
        name = _readable_name(source)
        placed = _place(model, name, ".pt" if engine == SpeechEngineKind.PT else "")
        size = placed.stat().st_size if placed.is_file() else sum(p.stat().st_size for p in placed.iterdir())
        with transaction.atomic():
            ImportedSpeechModel.objects.create(
                name=name[:200],
                path=str(placed),
                engine=engine,
                size_bytes=size,
                parameters=info.parameters,
                multilingual=info.multilingual,
                created_by=context.job.owner,
            )
    except SpeechRefused as exc:
        _discard(staging, placed)
        raise JobFailed(str(exc)) from exc
    except OSError as exc:
        _discard(staging, placed)
        raise JobFailed(f"Hearth could not copy the speech model: {exc.strerror or exc}.") from exc
    except BaseException:
        _discard(staging, placed)
        raise
    _discard(staging, None)
    languages = "many languages" if info.multilingual else "English only"
    return f"Added the speech model {name} ({languages}); choose it as the default on the Models page"


def _discard(staging: Path | None, placed: Path | None) -> None:
    for path in (staging, placed):
        if path is not None:
            path_remove(path)
