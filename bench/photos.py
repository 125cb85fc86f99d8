"""Hearth's photo indexing and search against a bare open_clip loop, on this machine.

    .venv/bin/python -m bench.photos [--images N] [--photos N] [--queries N] [--runs N] [--json]

It starts a private Chroma server under a temporary HEARTH_DATA_DIR with SQLite, sets up Django in this
process, and measures (the median of --runs runs for the throughputs):

1. images/s through Hearth's indexing job (photo_index_run via job_execute, as a worker runs it: decode,
   thumbnail, CLIP batch, Chroma upsert, rows) over a bare open_clip batch loop (open, preprocess, encode)
   on the same JPEGs, same model, same torch threads: the tiny test model and a ViT-B-32-sized random one;
2. text-to-photo search latency at --photos indexed photos (Chroma + cutoff + rows), the text encoder's
   own time reported apart;
3. the gallery's first page (100 thumbnails' HTML) and a deep page at --photos photos.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import bench_main, say
from bench.documents import chroma_running


@dataclass(frozen=True)
class Options:
    images: int
    photos: int
    queries: int
    runs: int
    as_json: bool


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.photos", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32, help="JPEGs (1600x1200) indexed per run")
    parser.add_argument("--photos", type=int, default=20_000, help="photos in the library for the latency figures")
    parser.add_argument("--queries", type=int, default=50, help="timed searches (after 3 warm-up ones)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each throughput; the median is reported")
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args(argv)
    return Options(args.images, args.photos, args.queries, args.runs, args.as_json)


def django_setup(data_dir: Path, chroma_port: int) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "HEARTH_DATA_DIR": str(data_dir),
        "REDIS_URL": "redis://127.0.0.1:6379/12", "HEARTH_REDIS_PREFIX": f"hearth-bench-photos-{os.getpid()}",
        "CHROMA_URL": f"http://127.0.0.1:{chroma_port}", "ALLOWED_HOSTS": "testserver,localhost",
        "HEARTH_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
    })  # fmt: skip
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    import assistant.jobs.services as jobs

    jobs.job_send = lambda *, job_id, kind: None  # type: ignore[assignment]  # jobs run here, via job_execute


def images_write(folder: Path, count: int) -> list[Path]:
    from tests.support import photos

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"IMG_{n:04}.jpg"
        path.write_bytes(photos.encoded(photos.scene(n, size=(1600, 1200)), "JPEG", quality=90))
        paths.append(path)
    return paths


def bare_loop(model: Any, preprocess: Any, paths: list[Path], batch: int) -> float:
    """images/s of the plain way: open each file, preprocess, encode a batch, normalise."""
    import torch
    from PIL import Image

    started = time.perf_counter()
    for first in range(0, len(paths), batch):
        images = [preprocess(Image.open(path).convert("RGB")) for path in paths[first : first + batch]]
        with torch.inference_mode():
            torch.nn.functional.normalize(model.encode_image(torch.stack(images)), dim=-1).tolist()
    return len(paths) / (time.perf_counter() - started)


def hearth_run(paths: list[Path], run: int) -> float:
    """images/s of Hearth's indexing job over freshly uploaded copies of `paths`."""
    from django.contrib.auth import get_user_model

    from assistant.jobs.models import Job
    from assistant.jobs.runner import job_execute
    from tests.support.photo_library import add

    owner = get_user_model().objects.create_user(username=f"bench-{time.time_ns()}-{run}")
    for path in paths:
        add(owner, path.name, path.read_bytes())
    job = Job.objects.get(owner=owner, kind="photo_index")
    started = time.perf_counter()
    job_execute(job_id=job.pk, worker="bench")
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != "succeeded":
        raise RuntimeError(job.error)
    return len(paths) / elapsed


def throughput(options: Options, folder: Path, architecture: str) -> dict[str, float]:
    from django.conf import settings

    from assistant.documents.pipeline.embed import embed_threads
    from assistant.photos.clip import ClipSpec, clip_loaded
    from assistant.photos.models import ClipModel, ClipStatus
    from tests.support.tiny_clip import clip_checkpoint_write

    checkpoint = clip_checkpoint_write(folder=folder / "clip", architecture=architecture)
    clip = clip_loaded(spec=ClipSpec(architecture, checkpoint), threads=embed_threads())
    ClipModel.objects.all().delete()
    ClipModel.objects.create(architecture=architecture, checkpoint=str(checkpoint), status=ClipStatus.READY,
                             dimensions=clip.info.dimensions)  # fmt: skip
    paths = images_write(folder / "images", options.images)
    bare_loop(clip.model, clip.preprocess, paths[:4], 4)  # warm up both: the first job also makes the collection
    hearth_run(paths[:4], -1)
    bare, hearth = [], []
    for run in range(options.runs):
        bare.append(bare_loop(clip.model, clip.preprocess, paths, settings.HEARTH_PHOTO_BATCH_SIZE))
        hearth.append(hearth_run(paths, run))
        say(f"{architecture} run {run + 1}: bare {bare[-1]:.2f} images/s, Hearth {hearth[-1]:.2f} images/s")
    return {"bare": statistics.median(bare), "hearth": statistics.median(hearth),
            "ratio": statistics.median(h / b for h, b in zip(hearth, bare, strict=True)),
            "dimensions": clip.info.dimensions}  # fmt: skip


def library_fill(owner: Any, count: int, dimensions: int) -> None:
    """`count` Photo rows over five years and their vectors (clusters of random unit vectors) in Chroma."""
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from assistant.photos.models import ClipModel, Photo
    from assistant.photos.store import vectors_upsert

    model = ClipModel.objects.get()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        Photo(owner=owner, name=f"IMG_{n:05}.jpg", file=f"users/{owner.pk}/photos/{n}.jpg", format="JPEG",
              size_bytes=3_000_000, sha256=f"{n:064x}", width=4032, height=3024, ready=True,
              taken_at=start + timedelta(hours=2 * n), sort_at=start + timedelta(hours=2 * n), embedded_with=model)
        for n in range(count)
    ]  # fmt: skip
    created = Photo.objects.bulk_create(rows, batch_size=2000)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, dimensions))
    for first in range(0, count, 2000):
        part = created[first : first + 2000]
        vectors = centres[rng.integers(0, 200, len(part))] + 0.6 * rng.normal(size=(len(part), dimensions))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors_upsert(
            owner_id=owner.pk, model_id=model.pk, photo_ids=[p.pk for p in part], embeddings=vectors.tolist()
        )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(options: Options) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from assistant.photos.search import photos_search_words

    owner = get_user_model().objects.create_user(username="library")
    started = time.perf_counter()
    library_fill(owner, options.photos, 512)
    say(f"stored {options.photos} photos and vectors in {time.perf_counter() - started:.0f} s")
    words = ["a dog at the beach", "birthday cake", "snow in the garden", "our kitchen", "the car", "sunset"]
    for text in words[:3]:
        photos_search_words(owner=owner, text=text)
    search, encode = [], []
    for n in range(options.queries):
        result = photos_search_words(owner=owner, text=f"{words[n % len(words)]} {n}")
        search.append(result.search_seconds * 1000)
        encode.append(result.encode_seconds * 1000)
    client = Client()
    client.force_login(owner)
    client.get("/photos/")
    first = []
    for _ in range(20):
        began = time.perf_counter()
        assert client.get("/photos/").status_code == 200
        first.append((time.perf_counter() - began) * 1000)
    say(
        f"search p50 {percentile(search, 0.5):.1f} ms, p95 {percentile(search, 0.95):.1f} ms; "
        f"gallery p50 {percentile(first, 0.5):.1f} ms"
    )
    return {"search_p50_ms": percentile(search, 0.5), "search_p95_ms": percentile(search, 0.95),
            "encode_p50_ms": percentile(encode, 0.5), "gallery_first_page_p50_ms": percentile(first, 0.5),
            "gallery_first_page_p95_ms": percentile(first, 0.95)}  # fmt: skip


def run(options: Options) -> str:
    say(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="hearth-bench-photos-") as temporary:
        folder = Path(temporary)
        with chroma_running(folder) as port:
            django_setup(folder, port)
            from tests.support.tiny_clip import TINY_ARCHITECTURE, VIT_B32_ARCHITECTURE

            results: dict[str, Any] = {"images": options.images, "runs": options.runs}
            results["tiny"] = throughput(options, folder / "tiny", TINY_ARCHITECTURE)
            results["vit_b32"] = throughput(options, folder / "vit", VIT_B32_ARCHITECTURE)
            results.update(latency(options))
    results["load_average_end"] = os.getloadavg()
    say(f"load average at end: {results['load_average_end']}")
    if options.as_json:
        return json.dumps(results, indent=2)
    lines = []
    for name, row in (("tiny", results["tiny"]), ("ViT-B-32 (random)", results["vit_b32"])):
        lines.append(
            f"{name}: Hearth {row['hearth']:.2f} images/s, bare open_clip {row['bare']:.2f} images/s, "
            f"ratio {row['ratio']:.2f}"
        )
    lines.append(
        f"search at {options.photos} photos: p50 {results['search_p50_ms']:.1f} ms, "
        f"p95 {results['search_p95_ms']:.1f} ms (text encoder p50 {results['encode_p50_ms']:.1f} ms, apart)"
    )
    lines.append(
        f"gallery first page at {options.photos} photos: p50 {results['gallery_first_page_p50_ms']:.1f} ms, "
        f"p95 {results['gallery_first_page_p95_ms']:.1f} ms"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return bench_main(parse_options(argv), run)


if __name__ == "__main__":
    raise SystemExit(main())
