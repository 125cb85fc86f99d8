"""Hearth's document indexing and search against the bare libraries, on this machine.

    .venv/bin/python -m bench.documents [--pages N] [--chunks N] [--queries N] [--json] [--keep]

It starts a private Chroma server (`chroma run`, a free port) under a temporary HEARTH_DATA_DIR with
SQLite, sets up Django in this process, and measures:

1. pages/s ingesting a generated corpus of PDFs through Hearth's own path (document_upload, then the
   indexing job run in-process by job_execute, as a worker runs it: extract → chunk → embed → upsert);
2. the embedding throughput inside that ingestion over SentenceTransformer.encode on the same texts,
   with the same batch size and torch threads;
3. documents_search latency (and a bare collection.query, for contrast) with --chunks records stored;
4. recall@5 of documents_search on the evaluation set in bench/eval/household.json.

What each figure means and how the 100k records are made: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.core.processes import chroma_command, chroma_heartbeat_url, http_ok, process_group_stop
from bench.common import BenchError, bench_main, free_port, say, table
from bench.corpus import PAGES_PER_DOCUMENT, corpus_documents, eval_documents, latency_queries
from bench.documents_fill import fill
from bench.documents_report import Results, machine, notes, percentile, rows


@dataclass(frozen=True)
class Options:
    pages: int
    chunks: int
    queries: int
    as_json: bool
    keep: bool


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="PDF pages in the ingestion corpus")
    parser.add_argument("--chunks", type=int, default=100_000, help="records stored for the latency measurement")
    parser.add_argument("--queries", type=int, default=100, help="timed searches (after 5 warm-up ones)")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args(argv)
    if args.pages < PAGES_PER_DOCUMENT or args.chunks < 1 or args.queries < 1:
        parser.error(f"--pages must be at least {PAGES_PER_DOCUMENT}, --chunks and --queries at least 1")
    return Options(args.pages, args.chunks, args.queries, args.as_json, args.keep)


# --- services and Django --------------------------------------------------------------------------


@contextmanager
def chroma_running(data_dir: Path) -> Iterator[int]:
    """A `chroma run` server of our own on a free port, stopped (its whole process group) at the end."""
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    with (data_dir / "chroma.log").open("w") as log:
        process = subprocess.Popen(
            chroma_command(path=data_dir / "chroma", port=port),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not http_ok(chroma_heartbeat_url(port)):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(f"Chroma did not start; see {data_dir / 'chroma.log'}")
                time.sleep(0.2)
            yield port
        finally:
            process_group_stop(process, timeout=15)


def django_setup(data_dir: Path, chroma_port: int) -> None:
    os.environ.pop("DATABASE_URL", None)  # SQLite in the data folder
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HEARTH_DATA_DIR": str(data_dir),
            "REDIS_URL": "redis://127.0.0.1:6379/12",
            "HEARTH_REDIS_PREFIX": f"hearth-bench-documents-{os.getpid()}",
            "CHROMA_URL": f"http://127.0.0.1:{chroma_port}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HEARTH_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    # Jobs run here through job_execute, the worker's own entry point; no broker message is sent.
    import assistant.jobs.services as jobs

    jobs.job_send = lambda *, job_id, kind: None  # type: ignore[assignment]


# --- timing hooks on the service module --------------------------------------------------------------


@dataclass
class Clock:
    """Seconds spent in one wrapped function: all calls, and the last call."""

    total: float = 0.0
    last: float = 0.0
    calls: int = 0
    items: int = 0

    def wrap(self, function: Callable[..., Any], count: Callable[[Any], int] | None = None) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = function(*args, **kwargs)
            self.last = time.perf_counter() - started
            self.total += self.last
            self.calls += 1
            if count is not None:
                self.items += count(args[0] if args else next(iter(kwargs.values())))
            return result

        return timed


@dataclass
class Hooks:
    embed: Clock = field(default_factory=Clock)
    upsert: Clock = field(default_factory=Clock)
    vector_query: Clock = field(default_factory=Clock)
    keyword: Clock = field(default_factory=Clock)
    texts: list[str] = field(default_factory=list)
    record_texts: bool = True

    def reset(self) -> None:
        self.embed, self.upsert, self.vector_query, self.keyword = Clock(), Clock(), Clock(), Clock()


def install_hooks() -> Hooks:
    """Time the embedder, the Chroma calls and the keyword query where the service module calls them."""
    from assistant.documents import indexing as service
    from assistant.documents import search
    from assistant.documents.pipeline.embed import embedder

    hooks = Hooks()
    model = embedder()
    model.embed_batch(["warm up"])

    class TimedEmbedder:
        name, dimensions = model.name, model.dimensions

        def embed_batch(self, texts: list[str]) -> list[list[float]]:
            if hooks.record_texts:
                hooks.texts.extend(texts)
            return hooks.embed.wrap(model.embed_batch, len)(texts)

    timed = TimedEmbedder()
    real_upsert, real_query, real_keyword = service.vectors_upsert, search.vectors_query, search.keyword_search
    service.embedder = lambda: timed  # type: ignore[assignment]
    # Outside the web server a query's vector is made in this process (jobs.remote), by the same model.
    search.query_vector = lambda text: timed.embed_batch([text])[0]  # type: ignore[assignment]
    service.vectors_upsert = lambda **kw: hooks.upsert.wrap(real_upsert)(**kw)  # type: ignore[assignment]
    search.vectors_query = lambda **kw: hooks.vector_query.wrap(real_query)(**kw)  # type: ignore[assignment]
    search.keyword_search = lambda **kw: hooks.keyword.wrap(real_keyword)(**kw)  # type: ignore[assignment]
    return hooks


def user_create(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None)


def ingest(owner: Any, name: str, pages: list[list[str]]) -> Any:
    """Upload one PDF and run its indexing job in this process; the READY document."""
    from assistant.documents.services import document_upload
    from assistant.jobs.runner import job_execute
    from assistant.models import DocumentStatus, Job, JobStatus
    from tests.support.documents import pdf_bytes, upload

    document = document_upload(owner=owner, upload=upload(name, pdf_bytes(pages)))
    job_execute(job_id=document.job_id, worker="bench")
    document.refresh_from_db()
    job = Job.objects.get(pk=document.job_id)
    if job.status != JobStatus.SUCCEEDED or document.status != DocumentStatus.READY:
        raise BenchError(f"indexing {name} ended {job.status}: {job.error}")
    return document


# --- the measurements --------------------------------------------------------------------------------


def measure_ingestion(options: Options, hooks: Hooks, results: Results) -> Any:
    from tests.support.documents import pdf_bytes

    owner = user_create("bench")
    corpus = list(corpus_documents(options.pages))
    started = time.perf_counter()
    for _name, pages in corpus[:2]:
        pdf_bytes(pages)
    results.pdf_build_seconds = (time.perf_counter() - started) / 2 * len(corpus)  # an estimate, for the notes
    hooks.reset()
    hooks.texts.clear()
    say(f"ingesting {options.pages} pages in {len(corpus)} PDFs")
    started = time.perf_counter()
    for index, (name, pages) in enumerate(corpus, start=1):
        ingest(owner, name, pages)
        if index % 10 == 0:
            say(f"  {index}/{len(corpus)} documents, {time.perf_counter() - started:.0f} s")
    results.ingest_seconds = time.perf_counter() - started
    results.pages, results.documents, results.chunks = options.pages, len(corpus), len(hooks.texts)
    results.ingest_embed_seconds, results.ingest_upsert_seconds = hooks.embed.total, hooks.upsert.total
    return owner


def measure_raw_embedding(hooks: Hooks, results: Results) -> None:
    """SentenceTransformer.encode on the same texts, batch size and torch threads as the ingestion."""
    import torch
    from django.conf import settings
    from sentence_transformers import SentenceTransformer

    from assistant.documents.pipeline.embed import embed_model_dir, embed_threads

    results.batch_size, results.threads = settings.HEARTH_EMBED_BATCH_SIZE, embed_threads()
    torch.set_num_threads(results.threads)
    model = SentenceTransformer(str(embed_model_dir()), device="cpu", local_files_only=True)
    model.encode(["warm up"], show_progress_bar=False)
    say(f"raw encode of {len(hooks.texts)} texts, batch {results.batch_size}, {results.threads} torch threads")
    started = time.perf_counter()
    model.encode(hooks.texts, batch_size=results.batch_size, normalize_embeddings=True, show_progress_bar=False)
    results.raw_embed_seconds = time.perf_counter() - started


def measure_recall(owner: Any, questions: list[dict[str, Any]]) -> tuple[int, list[str]]:
    from assistant.documents.search import documents_search

    hits, misses = 0, []
    for question in questions:
        found = documents_search(owner=owner, query=question["question"], limit=5)
        if any(p.document.name == question["document"] and p.page == question["page"] for p in found):
            hits += 1
        else:
            misses.append(question["question"])
    return hits, misses


def measure_latency(options: Options, owner: Any, hooks: Hooks, queries: list[str], results: Results) -> None:
    from assistant.core.vectors import collection_get
    from assistant.documents.pipeline.embed import embedder
    from assistant.documents.pipeline.store import COLLECTION_METADATA, collection_name
    from assistant.documents.search import documents_search

    hooks.record_texts = False
    say(f"{options.queries} searches over {results.stored} stored records")
    for query in queries[:5]:
        documents_search(owner=owner, query=query, limit=10)
    for query in queries:
        hooks.reset()
        started = time.perf_counter()
        documents_search(owner=owner, query=query, limit=10)
        results.search_ms.append(1000 * (time.perf_counter() - started))
        results.search_embed_ms.append(1000 * hooks.embed.last)
        results.search_vector_ms.append(1000 * hooks.vector_query.last)
        results.search_keyword_ms.append(1000 * hooks.keyword.last)

    collection = collection_get(name=collection_name(owner.pk), metadata=COLLECTION_METADATA)
    model = embedder()
    vectors = [model.embed_batch([query])[0] for query in queries]
    for vector in vectors[:5]:
        collection.query(query_embeddings=[vector], n_results=30, include=["metadatas", "distances"])
    for vector in vectors:
        started = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=30, include=["metadatas", "distances"])
        results.bare_ms.append(1000 * (time.perf_counter() - started))


def run(options: Options) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="hearth-bench-docs-"))
    say(f"data folder {data_dir}")
    before = machine()
    results = Results()
    try:
        with chroma_running(data_dir) as port:
            django_setup(data_dir, port)
            hooks = install_hooks()
            owner = measure_ingestion(options, hooks, results)
            measure_raw_embedding(hooks, results)
            hooks.record_texts = False
            documents, questions = eval_documents()
            reader = user_create("eval")
            for name, pages in documents:
                ingest(reader, name, pages)
            results.questions = len(questions)
            results.recall_hits, results.misses = measure_recall(reader, questions)
            fill(chunks=options.chunks, owner=owner, results=results)
            # The collection is shared by every member; the reader's search is filtered to its own records.
            results.recall_hits_full, _ = measure_recall(reader, questions)
            measure_latency(options, owner, hooks, latency_queries(questions, options.queries), results)
    except BaseException:
        say(f"failed; logs are in {data_dir}")
        raise
    if not options.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    after = machine()
    if options.as_json:
        return json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine_before": before,
                "machine_after": after,
                "options": asdict(options),
                "rows": [asdict(row) for row in rows(results)],
                "notes": notes(results),
                "results": {k: v for k, v in asdict(results).items() if not k.endswith("_ms")}
                | {
                    k: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2), "n": len(v)}
                    for k, v in asdict(results).items()
                    if k.endswith("_ms")
                },
            },
            indent=2,
        )
    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {after['cores']} cores {after['arch']}, no GPU, chromadb "
        f"{after['chromadb']}, load average {before['load_average']} → {after['load_average']}"
    )
    return "\n".join(
        [header, "", table(plain="bare library", result="result", report_rows=rows(results)), "", *notes(results)]
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(parse_options(argv), run)


if __name__ == "__main__":
    sys.exit(main())
