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
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.supervisor import chroma_command, chroma_heartbeat_url, http_ok

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "bench" / "eval" / "household.json"
GOAL_EMBED_RATIO = 0.8  # embedding chunks/s inside ingestion over raw encode, at least
GOAL_P95_MS = 50.0  # documents_search p95 with --chunks records stored, at most
PAGES_PER_DOCUMENT = 20
SYNTHETIC_CHUNKS_PER_DOCUMENT = 100
NOISE_SIGMA = 0.03  # per-dimension noise added to a real 384-dim unit vector (cosine to it ≈ 0.85)
UPSERT_BATCH = 2000
SEED = 20261128


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


def say(message: str) -> None:
    """Progress goes to stderr, so --json output on stdout stays clean."""
    print(f"bench | {message}", file=sys.stderr, flush=True)


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


# --- the generated corpus ----------------------------------------------------------------------------

NAMES = (
    "Anna", "Jonas", "Leo", "Marta", "Priya", "Tomasz", "Chloe", "Samir", "Ingrid", "Kofi", "Lucia", "Hamish",
    "Yuki", "Olu", "Beatriz", "Pavel", "Greta", "Ravi", "Sofia", "Declan",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # topic: (things, actions, places)
    "heating": (
        (
            "the boiler",
            "the thermostat",
            "the hot water cylinder",
            "the towel radiator",
            "the expansion vessel",
            "the underfloor manifold",
            "the gas meter",
            "the timer",
        ),
        ("checked", "serviced", "bled", "reset", "replaced", "cleaned", "adjusted", "inspected"),
        ("the utility room", "the loft", "the landing cupboard", "the garage", "the kitchen"),
    ),
    "garden": (
        (
            "the lawn mower",
            "the apple tree",
            "the greenhouse",
            "the compost bin",
            "the hedge trimmer",
            "the water butt",
            "the raised beds",
            "the strawberry patch",
        ),
        ("pruned", "fed", "repaired", "emptied", "sharpened", "planted", "watered", "covered"),
        ("the back garden", "the allotment", "the shed", "the front border", "the patio"),
    ),
    "car": (
        (
            "the front brake pads",
            "the windscreen wipers",
            "the battery",
            "the air filter",
            "the winter tyres",
            "the roof box",
            "the child seat",
            "the cambelt",
        ),
        ("fitted", "checked", "charged", "swapped", "topped up", "tightened", "booked in", "replaced"),
        ("the garage on Mill Lane", "the driveway", "the tyre centre", "the car park", "the dealer"),
    ),
    "money": (
        (
            "the council tax",
            "the energy bill",
            "the mortgage payment",
            "the savings account",
            "the pension",
            "the broadband contract",
            "the water rates",
            "the school dinner account",
        ),
        ("paid", "switched", "renewed", "reviewed", "cancelled", "increased", "queried", "set up"),
        ("the bank app", "the building society", "the online portal", "the post office", "the council office"),
    ),
    "health": (
        (
            "the inhaler",
            "the blood pressure check",
            "the dental appointment",
            "the eye test",
            "the flu jab",
            "the physiotherapy",
            "the hay fever tablets",
            "the first aid kit",
        ),
        ("booked", "collected", "renewed", "postponed", "attended", "restocked", "reviewed", "ordered"),
        ("the surgery", "the pharmacy", "the dentist on High Street", "the optician", "the clinic"),
    ),
    "school": (
        (
            "the reading folder",
            "the trip consent form",
            "the swimming kit",
            "the parents' evening",
            "the homework diary",
            "the lunch money",
            "the violin lesson",
            "the science project",
        ),
        ("signed", "returned", "packed", "arranged", "paid for", "labelled", "finished", "collected"),
        ("the school office", "the classroom", "the music room", "the after-school club", "the library"),
    ),
    "house": (
        (
            "the washing machine",
            "the smoke alarms",
            "the gutters",
            "the dishwasher filter",
            "the loft hatch",
            "the back door lock",
            "the bathroom sealant",
            "the fuse box",
        ),
        ("repaired", "tested", "cleared", "descaled", "painted", "oiled", "resealed", "labelled"),
        ("the kitchen", "the bathroom", "the hallway", "the cellar", "the spare room"),
    ),
    "travel": (
        (
            "the passports",
            "the ferry tickets",
            "the travel insurance",
            "the campsite booking",
            "the airport parking",
            "the euro cash",
            "the tent",
            "the hotel in Porto",
        ),
        ("renewed", "booked", "printed", "confirmed", "packed", "cancelled", "upgraded", "checked"),
        ("the travel agent", "the post office", "the station", "the harbour", "the airport"),
    ),
}
SENTENCES = (
    "On {day} {month} {name} {action} {thing} in {place}, and it cost {price} pounds in total.",
    "{name} says {thing} should be {action} every {every} months, so the next time is in {month}.",
    "Reminder for {name}: {thing} was last {action} on {day} {month} {year} by {other}.",
    "The receipt for {thing} ({price} pounds, reference {ref}) is filed in the blue folder in {place}.",
    "If {thing} needs attention again, {other} from {place} can come on a weekday; call {phone}.",
    "We agreed that {name} and {other} take turns: {name} handles {thing}, {other} keeps the notes.",
    "After {thing} was {action}, {name} wrote down that it took {minutes} minutes and {count} attempts.",
    "The guarantee on {thing} runs until {month} {year}; the serial number is {ref}.",
    "Budget note: {thing} has cost {price} pounds this year against {budget} pounds planned.",
    "{other} recommended checking {thing} before winter, ideally in {month}, and keeping spares in {place}.",
)


def _sentence(rng: random.Random, topic: str) -> str:
    things, actions, places = TOPICS[topic]
    name, other = rng.sample(NAMES, 2)
    return rng.choice(SENTENCES).format(
        name=name,
        other=other,
        thing=rng.choice(things),
        action=rng.choice(actions),
        place=rng.choice(places),
        day=rng.randint(1, 28),
        month=rng.choice(MONTHS),
        year=rng.randint(2019, 2026),
        price=f"{rng.randint(12, 2400):,}",
        budget=f"{rng.randint(100, 3000):,}",
        every=rng.choice((3, 6, 12, 18, 24)),
        ref=f"{rng.choice('ABCDEFGHKMNPRTX')}{rng.randint(1000, 99999)}-{rng.randint(10, 99)}",
        phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        minutes=rng.randint(5, 180),
        count=rng.randint(1, 5),
    )


def corpus_page(rng: random.Random, topic: str, *, sentences: int) -> list[str]:
    """One page of plausible household notes about `topic`, wrapped into PDF lines."""
    body = " ".join(_sentence(rng, topic) for _ in range(sentences))
    return textwrap.wrap(body, 95)


def corpus_documents(pages: int) -> Iterator[tuple[str, list[list[str]]]]:
    """(name, pages of lines) for PDFs of PAGES_PER_DOCUMENT pages, pages in all (the last one shorter)."""
    rng = random.Random(SEED)
    topics = list(TOPICS)
    number = 0
    while pages > 0:
        count = min(PAGES_PER_DOCUMENT, pages)
        topic = topics[number % len(topics)]
        title = f"{topic.title()} notebook {number // len(topics) + 1}"
        lines = [
            [f"{title}, page {n}", *corpus_page(rng, topic, sentences=rng.randint(12, 18))] for n in range(1, count + 1)
        ]
        yield f"{title}.pdf", lines
        pages -= count
        number += 1


def eval_documents() -> tuple[list[tuple[str, list[list[str]]]], list[dict[str, Any]]]:
    """The evaluation PDFs (facts on their pages, generated filler around them) and the questions."""
    data = json.loads(EVAL_SET.read_text())
    rng = random.Random(SEED + 1)
    topics = list(TOPICS)
    documents, questions = [], []
    for index, document in enumerate(data["documents"]):
        topic = topics[index % len(topics)]
        pages = []
        for number in range(1, document["page_count"] + 1):
            fact = document["pages"].get(str(number))
            if fact is None:
                pages.append(corpus_page(rng, topic, sentences=rng.randint(10, 14)))
            else:
                before = " ".join(_sentence(rng, topic) for _ in range(3))
                after = " ".join(_sentence(rng, topic) for _ in range(3))
                pages.append([*textwrap.wrap(before, 95), *textwrap.wrap(fact, 95), *textwrap.wrap(after, 95)])
        documents.append((document["name"], pages))
        questions += [{**q, "document": document["name"]} for q in document["questions"]]
    return documents, questions


# --- services and Django --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


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
    import assistant.services.jobs as jobs

    jobs.job_dispatch = lambda *, job_id: None  # type: ignore[assignment]


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
    from assistant.documents.embed import embedder
    from assistant.services import document_search as search
    from assistant.services import documents as service

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
    real_upsert, real_query, real_keyword = service.vectors_upsert, search.vectors_query, search.keyword_ranking
    service.embedder = search.embedder = lambda: timed  # type: ignore[assignment]
    service.vectors_upsert = lambda **kw: hooks.upsert.wrap(real_upsert)(**kw)  # type: ignore[assignment]
    search.vectors_query = lambda **kw: hooks.vector_query.wrap(real_query)(**kw)  # type: ignore[assignment]
    search.keyword_ranking = lambda **kw: hooks.keyword.wrap(real_keyword)(**kw)  # type: ignore[assignment]
    return hooks


def user_create(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None)


def ingest(owner: Any, name: str, pages: list[list[str]]) -> Any:
    """Upload one PDF and run its indexing job in this process; the READY document."""
    from assistant.models import DocumentStatus, Job, JobStatus
    from assistant.services.documents import document_upload
    from assistant.services.runner import job_execute
    from tests.support.documents import pdf_bytes, upload

    document = document_upload(owner=owner, upload=upload(name, pdf_bytes(pages)))
    job_execute(job_id=document.job_id, worker="bench")
    document.refresh_from_db()
    job = Job.objects.get(pk=document.job_id)
    if job.status != JobStatus.SUCCEEDED or document.status != DocumentStatus.READY:
        raise BenchError(f"indexing {name} ended {job.status}: {job.error}")
    return document


# --- the measurements --------------------------------------------------------------------------------


@dataclass
class Results:
    pages: int = 0
    documents: int = 0
    chunks: int = 0
    pdf_build_seconds: float = 0.0
    ingest_seconds: float = 0.0
    ingest_embed_seconds: float = 0.0
    ingest_upsert_seconds: float = 0.0
    raw_embed_seconds: float = 0.0
    batch_size: int = 0
    threads: int = 0
    recall_hits: int = 0
    recall_hits_full: int = 0
    questions: int = 0
    misses: list[str] = field(default_factory=list)
    stored: int = 0
    fill_seconds: float = 0.0
    search_ms: list[float] = field(default_factory=list)
    search_embed_ms: list[float] = field(default_factory=list)
    search_vector_ms: list[float] = field(default_factory=list)
    search_keyword_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)


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

    from assistant.documents.embed import embed_model_dir, embed_threads

    results.batch_size, results.threads = settings.HEARTH_EMBED_BATCH_SIZE, embed_threads()
    torch.set_num_threads(results.threads)
    model = SentenceTransformer(str(embed_model_dir()), device="cpu", local_files_only=True)
    model.encode(["warm up"], show_progress_bar=False)
    say(f"raw encode of {len(hooks.texts)} texts, batch {results.batch_size}, {results.threads} torch threads")
    started = time.perf_counter()
    model.encode(hooks.texts, batch_size=results.batch_size, normalize_embeddings=True, show_progress_bar=False)
    results.raw_embed_seconds = time.perf_counter() - started


def measure_recall(owner: Any, questions: list[dict[str, Any]]) -> tuple[int, list[str]]:
    from assistant.services.document_search import documents_search

    hits, misses = 0, []
    for question in questions:
        found = documents_search(owner=owner, query=question["question"], limit=5)
        if any(p.document.name == question["document"] and p.page == question["page"] for p in found):
            hits += 1
        else:
            misses.append(question["question"])
    return hits, misses


def fill(options: Options, owner: Any, results: Results) -> None:
    """Grow the collection to options.chunks records for `owner` with perturbed real vectors and real texts."""
    import numpy as np

    from assistant.documents.store import COLLECTION_METADATA, collection_name, vector_id
    from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus
    from assistant.vectors import collection_get

    collection = collection_get(name=collection_name(owner.pk), metadata=COLLECTION_METADATA)
    real = collection.get(include=["embeddings"])
    base = np.asarray(real["embeddings"], dtype=np.float32)
    texts = list(
        DocumentChunk.objects.filter(document__owner=owner)
        .order_by("document_id", "number")
        .values_list("text", "page")
    )
    missing = options.chunks - collection.count()
    results.stored = collection.count()
    if missing <= 0:
        return
    say(f"filling Chroma with {missing} records (perturbed copies of {len(base)} real vectors)")
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    made = 0
    serial = 0
    while made < missing:
        count = min(SYNTHETIC_CHUNKS_PER_DOCUMENT, missing - made)
        serial += 1
        document = Document.objects.create(
            owner=owner,
            name=f"Synthetic notebook {serial}.pdf",
            file=f"users/{owner.pk}/documents/synthetic-{serial}.pdf",
            kind=DocumentKind.PDF,
            size_bytes=0,
            sha256=f"{serial:064x}",
            status=DocumentStatus.READY,
            page_count=count // 3 + 1,
            chunk_count=count,
        )
        sources = rng.integers(0, len(base), size=count)
        vectors = base[sources] + rng.normal(0.0, NOISE_SIGMA, size=(count, base.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [
            DocumentChunk(
                document=document,
                number=n,
                page=n // 3 + 1,
                heading="",
                start=0,
                end=len(texts[int(s) % len(texts)][0]),
                text=texts[int(s) % len(texts)][0],
            )
            for n, s in enumerate(sources)
        ]
        DocumentChunk.objects.bulk_create(rows, batch_size=500)
        for first in range(0, count, UPSERT_BATCH):
            part = range(first, min(first + UPSERT_BATCH, count))
            collection.upsert(
                ids=[vector_id(document.pk, n) for n in part],
                embeddings=vectors[first : part.stop].tolist(),
                metadatas=[
                    {
                        "owner_id": owner.pk,
                        "document_id": document.pk,
                        "chunk": n,
                        "page": n // 3 + 1,
                        "start": 0,
                        "end": rows[n].end,
                    }
                    for n in part
                ],
            )
        made += count
        if serial % 100 == 0:
            say(f"  {made}/{missing} records, {time.perf_counter() - started:.0f} s")
    results.fill_seconds = time.perf_counter() - started
    results.stored = collection.count()


def latency_queries(questions: list[dict[str, Any]], count: int) -> list[str]:
    """The evaluation questions, then generated ones about the corpus' topics, `count` in all."""
    rng = random.Random(SEED + 2)
    queries = [q["question"] for q in questions]
    while len(queries) < count:
        topic = rng.choice(list(TOPICS))
        things, actions, places = TOPICS[topic]
        queries.append(
            rng.choice(
                (
                    "When was {thing} last {action}?",
                    "How much did we pay when {thing} was {action}?",
                    "Who looks after {thing} and where are the receipts kept?",
                    "Is {thing} still under guarantee?",
                    "What did {name} note about {thing} in {place}?",
                )
            ).format(
                thing=rng.choice(things), action=rng.choice(actions), place=rng.choice(places), name=rng.choice(NAMES)
            )
        )
    return queries[:count]


def measure_latency(options: Options, owner: Any, hooks: Hooks, queries: list[str], results: Results) -> None:
    from assistant.documents.embed import embedder
    from assistant.documents.store import COLLECTION_METADATA, collection_name
    from assistant.services.document_search import documents_search
    from assistant.vectors import collection_get

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


# --- the report ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]  # nearest rank


def p50_p95(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} / p95 {percentile(values, 95):.1f} ms"


@dataclass(frozen=True)
class Row:
    measure: str
    hearth: str
    plain: str
    result: str
    goal: str
    passed: bool | None


def rows(results: Results) -> list[Row]:
    r = results
    embed_rate = r.chunks / r.ingest_embed_seconds if r.ingest_embed_seconds else 0.0
    raw_rate = r.chunks / r.raw_embed_seconds if r.raw_embed_seconds else 0.0
    end_to_end = r.chunks / r.ingest_seconds if r.ingest_seconds else 0.0
    ratio = embed_rate / raw_rate if raw_rate else 0.0
    p95 = percentile(r.search_ms, 95)
    recall = r.recall_hits / r.questions if r.questions else 0.0
    recall_full = r.recall_hits_full / r.questions if r.questions else 0.0
    return [
        Row(
            f"ingest {r.pages} PDF pages ({r.documents} files, {r.chunks} chunks)",
            f"{r.pages / r.ingest_seconds:.2f} pages/s",
            "",
            f"{r.ingest_seconds:.0f} s",
            "",
            None,
        ),
        Row(
            "embedding chunks/s in ingestion vs raw encode",
            f"{embed_rate:.1f} chunks/s",
            f"{raw_rate:.1f} chunks/s",
            f"{ratio:.3f}",
            f"≥ {GOAL_EMBED_RATIO}",
            ratio >= GOAL_EMBED_RATIO,
        ),
        Row(
            "  reference: whole ingestion vs raw encode",
            f"{end_to_end:.1f} chunks/s",
            f"{raw_rate:.1f} chunks/s",
            f"{end_to_end / raw_rate if raw_rate else 0:.3f}",
            "",
            None,
        ),
        Row(
            f"documents_search, {r.stored:,} records stored",
            p50_p95(r.search_ms),
            "",
            "",
            f"p95 ≤ {GOAL_P95_MS:.0f} ms",
            p95 <= GOAL_P95_MS,
        ),
        Row("  of which query embedding", p50_p95(r.search_embed_ms), "", "", "", None),
        Row("  of which Chroma vectors_query", p50_p95(r.search_vector_ms), "", "", "", None),
        Row("  of which keyword ranking (SQLite FTS5)", p50_p95(r.search_keyword_ms), "", "", "", None),
        Row("  bare collection.query, no filter", "", p50_p95(r.bare_ms), "", "", None),
        Row(
            f"recall@5, {r.questions} questions (small collection)",
            f"{r.recall_hits}/{r.questions} = {recall:.2f}",
            "",
            "",
            "",
            None,
        ),
        Row(
            f"recall@5 again with {r.stored:,} records stored",
            f"{r.recall_hits_full}/{r.questions} = {recall_full:.2f}",
            "",
            "",
            "",
            None,
        ),
    ]


def table(report_rows: list[Row]) -> str:
    head = ["measure", "Hearth", "bare library", "result", "goal", "pass"]
    cells = [
        [r.measure, r.hearth, r.plain, r.result, r.goal, "" if r.passed is None else ("PASS" if r.passed else "FAIL")]
        for r in report_rows
    ]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [head, *cells]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def notes(results: Results) -> list[str]:
    r = results
    other = r.ingest_seconds - r.ingest_embed_seconds - r.ingest_upsert_seconds
    return [
        f"ingestion time split: embed {r.ingest_embed_seconds:.1f} s, Chroma upsert {r.ingest_upsert_seconds:.1f} s, "
        f"the rest (upload, pypdf extract, chunk, SQLite rows, job bookkeeping) {other:.1f} s; "
        f"building the PDFs (not timed) ≈ {r.pdf_build_seconds:.1f} s",
        f"embedding: batch size {r.batch_size}, torch threads {r.threads}; raw encode {r.raw_embed_seconds:.1f} s "
        f"for the same {r.chunks} texts",
        f"fill: {r.stored:,} records in Chroma after {r.fill_seconds:.0f} s of direct upserts",
        "recall misses: " + ("; ".join(r.misses) if r.misses else "none"),
    ]


def machine() -> dict[str, Any]:
    import chromadb

    return {
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "chromadb": chromadb.__version__,
    }


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
            fill(options, owner, results)
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
    return "\n".join([header, "", table(rows(results)), "", *notes(results)])


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(run(options))
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except BenchError as exc:
        say(str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
