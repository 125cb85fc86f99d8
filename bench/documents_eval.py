"""Hearth's document search on a real library: the right passage, and an honest "not found".

    .venv/bin/python -m bench.documents_eval [--compare REF] [--no-baselines] [--json] [--keep]

It starts a private Chroma server under a temporary HEARTH_DATA_DIR with SQLite (as bench.documents
does), uploads the 48 documents of bench/data/docs through document_upload and runs each indexing job
in this process, then asks every question of bench/data/documents_eval.json with documents_search(limit=10)
and prints recall@1/5/10, MRR@10, the not-found rate on unanswerable questions and the false not-found
rate on answerable ones at HEARTH_RAG_MIN_SCORE, and the trade-off curve of that threshold. Baselines
over the same files: plain BM25 and plain dense MiniLM over simple 800-character chunks of each page.
--compare REF runs the same evaluation on another commit's pipeline (git archive of REF into a temporary
folder, this scorer and the data copied beside it, run there in a subprocess) and prints both.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import BenchError, bench_main, say
from bench.documents_eval_metrics import (
    GOAL_FALSE_NOT_FOUND,
    GOAL_MRR_AT_10,
    GOAL_NOT_FOUND,
    GOAL_RECALL_AT_5,
    Outcome,
    Summary,
    answers,
    baseline_outcomes,
    best_threshold,
    curve,
    simple_chunks,
    summarize,
)

DATA = Path(__file__).resolve().parent / "data"
LIBRARY = DATA / "docs"
QUESTIONS = DATA / "documents_eval.json"
TMP_ROOT = tempfile.gettempdir()  # before Django's settings point TMPDIR into a data folder of their own
QUICK_CHARS = 30_000  # --quick: a document with more text than this is left out, with its questions


@dataclass(frozen=True)
class Options:
    compare: str | None
    baselines: bool
    as_json: bool
    keep: bool
    dump: Path | None = None
    quick: bool = False
    only: tuple[str, ...] = ()


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.documents_eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compare",
        metavar="REF",
        help="also evaluate the pipeline of this git commit or branch, or show an earlier run saved with --json",
    )
    parser.add_argument("--no-baselines", dest="baselines", action="store_false", help="skip BM25 and dense baselines")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of the tables")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--dump", type=Path, help="write both rankings of every question here (for tuning)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"only documents of at most {QUICK_CHARS:,} characters, and their questions",
    )
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)  # file names, comma-separated (--compare)
    args = parser.parse_args(argv)
    only = tuple(name for name in args.only.split(",") if name)
    return Options(args.compare, args.baselines, args.as_json, args.keep, args.dump, args.quick, only)


def _hearth(name: str) -> Any:
    """A function of Hearth's, wherever this tree keeps it (the layout changed with the reshape)."""
    places = {
        "document_upload": ("assistant.documents.services", "assistant.services.documents"),
        "documents_search": ("assistant.documents.search", "assistant.services.document_search"),
        "job_execute": ("assistant.jobs.runner", "assistant.services.runner"),
        "pages_extract": ("assistant.documents.pipeline.extract", "assistant.documents.extract"),
        "kind_detect": ("assistant.documents.pipeline.detect", "assistant.documents.detect"),
        "embedder": ("assistant.documents.pipeline.embed", "assistant.documents.embed"),
        "page_text": ("assistant.documents.pipeline.chunk", "assistant.documents.chunk"),
    }
    for module in places[name]:
        try:
            return getattr(importlib.import_module(module), name)
        except ModuleNotFoundError:
            continue
    raise BenchError(f"cannot find {name} in this tree")


def library(*, quick: bool = False, only: tuple[str, ...] = ()) -> list[Path]:
    suffixes = (".pdf", ".docx", ".html", ".md", ".txt")
    paths = sorted(p for p in LIBRARY.iterdir() if p.suffix in suffixes and p.name != "PROVENANCE.md")
    if only:
        return [path for path in paths if path.name in only]
    return [path for path in paths if _text_chars(path) <= QUICK_CHARS] if quick else paths


def _text_chars(path: Path) -> int:
    pages_extract, kind_detect, page_text = (_hearth(name) for name in ("pages_extract", "kind_detect", "page_text"))
    pages = pages_extract(path, kind=kind_detect(path, name=path.name), name=path.name)
    return sum(len(page_text(page)) for page in pages)


def questions_for(paths: list[Path]) -> list[dict[str, Any]]:
    """The evaluation's questions about these documents, and every unanswerable one."""
    names = {path.name for path in paths}
    questions: list[dict[str, Any]] = json.loads(QUESTIONS.read_text())["questions"]
    return [q for q in questions if not q["answerable"] or q["document"] in names]


def ingest_library(owner: Any, paths: list[Path]) -> dict[str, Any]:
    """Upload and index every document; the timings and counts."""
    from assistant.models import Document, DocumentStatus
    from tests.support.documents import upload

    document_upload, job_execute = _hearth("document_upload"), _hearth("job_execute")
    started = time.perf_counter()
    for path in paths:
        document = document_upload(owner=owner, upload=upload(path.name, path.read_bytes()))
        job_execute(job_id=document.job_id, worker="bench")
        document.refresh_from_db()
        if document.status != DocumentStatus.READY:
            raise BenchError(f"indexing {path.name} ended {document.status}: {document.error}")
    seconds = time.perf_counter() - started
    documents = Document.objects.filter(owner=owner)
    pdf_pages = sum(d.page_count for d in documents if d.kind == "pdf")
    return {
        "documents": documents.count(),
        "passages": sum(d.chunk_count for d in documents),
        "pdf_pages": pdf_pages,
        "seconds": round(seconds, 1),
    }


def hearth_outcomes(owner: Any, questions: list[dict[str, Any]]) -> tuple[list[Outcome], list[float]]:
    """Each question through documents_search(limit=10); the top passage's score decides "not found"."""
    from django.conf import settings

    documents_search = _hearth("documents_search")
    outcomes, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        found = documents_search(owner=owner, query=question["question"], limit=10)
        latencies.append(1000 * (time.perf_counter() - started))
        rank = document_rank = None
        for position, passage in enumerate(found, start=1):
            if rank is None and answers(question, passage.document.name, passage.page, passage.text):
                rank = position
            if document_rank is None and passage.document.name == question.get("document"):
                document_rank = position
        # "Not found" as the chat decides it: no passage among those an answer uses clears the threshold.
        top = max((float(p.score) for p in found[: settings.HEARTH_RAG_PASSAGES]), default=None)
        outcomes.append(Outcome(question["id"], bool(question["answerable"]), rank, top, document_rank))
    return outcomes, latencies


def rankings_dump(owner: Any, questions: list[dict[str, Any]], target: Path) -> None:
    """Both rankings (30 deep) of every question, with what fusion and the relevance score are tuned on."""
    from assistant.documents.pipeline.relevance import term_coverage
    from assistant.documents.pipeline.store import vectors_similarity
    from assistant.documents.search import search_rankings
    from assistant.models import DocumentChunk

    dumped = []
    for question in questions:
        found = search_rankings(owner=owner, query=question["question"], pool=30)
        assert found is not None
        semantic = [(hit.document_id, hit.chunk_number) for hit in found.semantic]
        similarity = {(hit.document_id, hit.chunk_number): hit.similarity for hit in found.semantic}
        missing = [key for key in found.keyword if key not in similarity]
        similarity |= vectors_similarity(owner_id=owner.pk, embedding=found.vector, keys=missing)
        candidates = {}
        for key in set(semantic) | set(found.keyword):
            row = DocumentChunk.objects.select_related("document").get(document_id=key[0], number=key[1])
            candidates[f"{key[0]}:{key[1]}"] = {
                "answers": answers(question, row.document.name, row.page, row.text),
                "document": row.document.name,
                "similarity": similarity.get(key, 0.0),
                "coverage": term_coverage(found.terms, f"{row.context}\n{row.text}"),
            }
        dumped.append(
            {
                "id": question["id"],
                "answerable": question["answerable"],
                "semantic": [f"{d}:{n}" for d, n in semantic],
                "keyword": [f"{d}:{n}" for d, n in found.keyword],
                "candidates": candidates,
            }
        )
    target.write_text(json.dumps(dumped))


def baselines(questions: list[dict[str, Any]], paths: list[Path]) -> dict[str, list[Outcome]]:
    pages_extract, kind_detect, page_text, embedder = (
        _hearth(name) for name in ("pages_extract", "kind_detect", "page_text", "embedder")
    )
    chunks = []
    for path in paths:
        pages = pages_extract(path, kind=kind_detect(path, name=path.name), name=path.name)
        chunks.extend(simple_chunks(path.name, [(page.number, page_text(page)) for page in pages]))
    say(f"baselines over {len(chunks)} simple chunks")
    model = embedder()

    def embed(texts: Any) -> list[list[float]]:
        vectors: list[list[float]] = []
        for first in range(0, len(texts), 32):
            vectors.extend(model.embed_batch(list(texts[first : first + 32])))
        return vectors

    return baseline_outcomes(questions, chunks, embed)


def evaluate(options: Options) -> dict[str, Any]:
    """This tree's pipeline (and the baselines) on the library, in a data folder of its own."""
    from bench.documents import chroma_running, django_setup, user_create

    data_dir = Path(tempfile.mkdtemp(prefix="hearth-bench-eval-"))
    load = os.getloadavg()
    try:
        with chroma_running(data_dir) as port:
            django_setup(data_dir, port)
            from django.conf import settings

            owner = user_create("eval")
            paths = library(quick=options.quick, only=options.only)
            questions = questions_for(paths)
            say(f"indexing {len(paths)} documents")
            ingestion = ingest_library(owner, paths)
            say(f"indexed in {ingestion['seconds']} s; asking {len(questions)} questions")
            outcomes, latencies = hearth_outcomes(owner, questions)
            if options.dump:
                rankings_dump(owner, questions, options.dump)
            extra = baselines(questions, paths) if options.baselines else {}
            threshold = float(settings.HEARTH_RAG_MIN_SCORE)
    finally:
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            say(f"data folder kept: {data_dir}")
    return {
        "threshold": threshold,
        "ingestion": ingestion,
        "load_average": [round(x, 2) for x in (*load, *os.getloadavg())],
        "latency_ms_p50": round(sorted(latencies)[len(latencies) // 2], 1),
        "outcomes": {"Hearth": [asdict(o) for o in outcomes]}
        | {name: [asdict(o) for o in result] for name, result in extra.items()},
    }


def evaluate_ref(ref: str, *, only: list[str]) -> dict[str, Any]:
    """The same evaluation on another commit: its files in a temporary folder, this scorer copied in."""
    root = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="hearth-eval-ref-", dir=TMP_ROOT))
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        for name in ("documents_eval.py", "documents_eval_metrics.py"):
            shutil.copyfile(root / "bench" / name, folder / "bench" / name)
        shutil.copytree(DATA, folder / "bench" / "data", dirs_exist_ok=True)
        say(f"evaluating {ref} in {folder}")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.documents_eval",
                "--json",
                "--no-baselines",
                *(["--only", ",".join(only)] if only else []),
            ],
            cwd=folder,
            stdout=subprocess.PIPE,
            check=False,
        )
        if done.returncode:
            raise BenchError(f"the evaluation of {ref} failed (exit {done.returncode})")
        result: dict[str, Any] = json.loads(done.stdout)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _summaries(result: dict[str, Any], label: str) -> list[tuple[Summary, list[Outcome]]]:
    rows = []
    for name, raw in result["outcomes"].items():
        outcomes = [Outcome(**o) for o in raw]
        threshold = result["threshold"] if name == "Hearth" else None
        rows.append((summarize(f"{name} ({label})" if name == "Hearth" else name, outcomes, threshold), outcomes))
    return rows


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def report(results: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores"]
    rows = [summary for label, result in results for summary in _summaries(result, label)]
    columns = ("R@1", 5), ("R@5", 5), ("R@10", 5), ("MRR@10", 6), ("doc@5", 5), ("thresh", 6), ("NF", 5), ("FNF", 5)
    head = f"{'pipeline':44} " + " ".join(f"{name:>{width}}" for name, width in columns)
    lines += ["", head, "-" * len(head)]
    for summary, _ in rows:
        lines.append(
            f"{summary.name:44} {summary.recall[1]:5.2f} {summary.recall[5]:5.2f} {summary.recall[10]:5.2f}"
            f" {summary.mrr:6.2f} {summary.document_recall_5:5.2f} {_percent(summary.threshold):>6}"
            f" {_percent(summary.not_found):>5} {_percent(summary.false_not_found):>5}"
        )
    lines.append(
        f"goals: R@5 >= {GOAL_RECALL_AT_5}, MRR@10 >= {GOAL_MRR_AT_10}, NF (not found on unanswerable)"
        f" >= {GOAL_NOT_FOUND} with FNF (false not found on answerable) <= {GOAL_FALSE_NOT_FOUND}"
    )
    for summary, outcomes in rows:
        threshold, nf, fnf = best_threshold(outcomes)
        lines += ["", f"{summary.name}: {summary.answerable} answerable, {summary.unanswerable} unanswerable"]
        lines.append(
            f"  best threshold with FNF <= {GOAL_FALSE_NOT_FOUND}: {threshold:.3f} (NF {nf:.2f}, FNF {fnf:.2f})"
        )
        points = "; ".join(f"{t:.3f}: {a:.2f}/{b:.2f}" for t, a, b in curve(outcomes, 10))
        lines.append(f"  curve (threshold: NF / FNF): {points}")
        misses = [o.id for o in outcomes if o.answerable and (o.rank is None or o.rank > 5)]
        lines.append(f"  not in the top 5: {' '.join(misses) or 'none'}")
    for label, result in results:
        ingestion = result["ingestion"]
        lines.append(
            f"\n{label}: indexed {ingestion['documents']} documents ({ingestion['pdf_pages']} PDF pages) into"
            f" {ingestion['passages']} passages in {ingestion['seconds']} s; search p50 {result['latency_ms_p50']} ms;"
            f" load average before/after {result['load_average']}"
        )
    return "\n".join(lines)


def run(options: Options) -> str:
    results = [("this tree", evaluate(options))]
    if options.compare and options.compare.endswith(".json") and Path(options.compare).is_file():
        results.insert(0, (Path(options.compare).stem, json.loads(Path(options.compare).read_text())))
    elif options.compare:
        only = [path.name for path in library(quick=True)] if options.quick else []
        results.insert(0, (options.compare, evaluate_ref(options.compare, only=only)))
    if options.as_json:
        return json.dumps(results[-1][1] if not options.compare else dict(results), indent=1)
    return report(results)


def main(argv: list[str] | None = None) -> int:
    return bench_main(parse_options(argv), run)


if __name__ == "__main__":
    sys.exit(main())
