"""The CLIP interface on a tiny real OpenCLIP model: load once, check the checkpoint, embed in batches."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.photos.clip import ClipSpec, ClipUnavailable, ImageEmbedder, TextEmbedder, clip_load, clip_loaded
from tests.support import photos
from tests.support.tiny_clip import TINY_ARCHITECTURE, TINY_CONFIG, clip_checkpoint_write


@pytest.fixture
def spec(tiny_clip: Path) -> ClipSpec:
    return ClipSpec(architecture=TINY_ARCHITECTURE, checkpoint=tiny_clip)


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_images_become_unit_vectors_and_a_photo_is_nearest_itself(spec: ClipSpec) -> None:
    embedder = ImageEmbedder(spec=spec)
    images = [photos.scene(n) for n in range(6)]
    vectors = embedder.embed_batch(images)
    assert embedder.dimensions == 32
    assert all(len(v) == 32 and math.isclose(dot(v, v), 1.0, rel_tol=1e-5) for v in vectors)
    again = embedder.embed_batch([images[3]])[0]
    assert max(range(6), key=lambda n: dot(again, vectors[n])) == 3
    assert embedder.embed_batch([]) == []


def test_a_smaller_copy_of_a_photo_is_nearest_its_original(spec: ClipSpec) -> None:
    embedder = ImageEmbedder(spec=spec)
    originals = embedder.embed_batch([photos.scene(n) for n in range(8)])
    copy = embedder.embed_batch([photos.scene(5).resize((320, 240))])[0]
    assert max(range(8), key=lambda n: dot(copy, originals[n])) == 5


def test_words_become_vectors_of_the_same_space(spec: ClipSpec) -> None:
    vectors = TextEmbedder(spec=spec).embed_batch(["a dog on the beach", "birthday cake"])
    assert len(vectors) == 2
    assert all(math.isclose(dot(v, v), 1.0, rel_tol=1e-5) for v in vectors)


def test_the_model_is_loaded_once_per_process(spec: ClipSpec) -> None:
    assert ImageEmbedder(spec=spec).clip is TextEmbedder(spec=spec).clip is clip_loaded(spec=spec)


def test_loading_reports_size_and_memory(spec: ClipSpec) -> None:
    info = clip_load(spec=spec).info
    assert (info.architecture, info.dimensions, info.image_size) == (TINY_ARCHITECTURE, 32, 32)
    assert 3_000_000 < info.parameters < 5_000_000  # mostly the 49,408-token embedding table
    assert info.ram_bytes > info.parameters * 4


def test_a_missing_file_a_relative_path_and_a_wrong_suffix_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ClipUnavailable, match="There is no file at"):
        clip_load(spec=ClipSpec(architecture="ViT-B-32", checkpoint=tmp_path / "none.pt"))
    with pytest.raises(ClipUnavailable, match="is not a full path"):
        clip_load(spec=ClipSpec(architecture="ViT-B-32", checkpoint=Path("model.pt")))
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    with pytest.raises(ClipUnavailable, match="is not an OpenCLIP checkpoint"):
        clip_load(spec=ClipSpec(architecture="ViT-B-32", checkpoint=tmp_path / "model.gguf"))


def test_an_unknown_architecture_is_named(tiny_clip: Path) -> None:
    with pytest.raises(ClipUnavailable, match="OpenCLIP has no architecture called 'ViT-Q-99'"):
        clip_load(spec=ClipSpec(architecture="ViT-Q-99", checkpoint=tiny_clip))


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path: Path, tiny_clip: Path) -> None:
    wider = {**TINY_CONFIG, "vision_cfg": {**TINY_CONFIG["vision_cfg"], "width": 96}}
    other = clip_checkpoint_write(folder=tmp_path, architecture="hearth-tiny-wide", config=wider)
    with pytest.raises(ClipUnavailable, match=r"hearth-tiny-wide\.pt does not load as a hearth-tiny-clip checkpoint"):
        clip_load(spec=ClipSpec(architecture=TINY_ARCHITECTURE, checkpoint=other))


def test_a_file_that_is_not_a_checkpoint_is_refused(tiny_clip: Path) -> None:
    junk = tiny_clip.parent / "junk-weights.pt"
    junk.write_bytes(b"not a pickle" * 100)
    with pytest.raises(ClipUnavailable, match=r"junk-weights\.pt does not load as a hearth-tiny-clip checkpoint"):
        clip_load(spec=ClipSpec(architecture=TINY_ARCHITECTURE, checkpoint=junk))
