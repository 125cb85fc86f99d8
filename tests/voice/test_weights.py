"""Whisper base is joined from its two packages once and checked against the digests stored in code."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant.voice.weights import BASE_FILES, WeightsMissing, base_folder_prepare, model_folder, tiny_en_folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_base_is_joined_and_verified_once(tmp_path: Path) -> None:
    folder = base_folder_prepare(models_dir=tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [".verified", *sorted(BASE_FILES)]
    assert digest(folder / "model.bin") == BASE_FILES["model.bin"][1]
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert base_folder_prepare(models_dir=tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == mtime  # not joined again


def test_a_damaged_joined_file_is_joined_again(tmp_path: Path) -> None:
    folder = base_folder_prepare(models_dir=tmp_path)
    with (folder / "model.bin").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    base_folder_prepare(models_dir=tmp_path)
    assert digest(folder / "model.bin") == BASE_FILES["model.bin"][1]


def test_a_half_joined_file_is_joined_again(tmp_path: Path) -> None:
    folder = base_folder_prepare(models_dir=tmp_path)
    with (folder / "model.bin").open("r+b") as handle:
        handle.truncate(1000)
    base_folder_prepare(models_dir=tmp_path)
    assert (folder / "model.bin").stat().st_size == BASE_FILES["model.bin"][0]


def test_tiny_en_comes_from_its_package() -> None:
    assert (tiny_en_folder() / "model.bin").is_file()
    assert model_folder(name="tiny.en") == tiny_en_folder()


def test_an_unknown_model_name_is_refused() -> None:
    with pytest.raises(WeightsMissing, match="Unknown speech model 'large'"):
        model_folder(name="large")
