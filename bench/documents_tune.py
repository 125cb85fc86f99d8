"""Fitting the re-scoring weights and the relevance score on one half of the evaluation set, checked on the other.

    .venv/bin/python -m bench.documents_tune collect [--quick] [--data DIR] --out FEATURES.json
    .venv/bin/python -m bench.documents_tune fit FEATURES.json

`collect` indexes the library as bench.documents_eval does (or reopens a folder kept with --data) and
writes, for every question, every candidate passage of `search_candidates` with its features and whether
it answers. `fit` needs no Django: it splits the questions by document (documents in name order go
alternately to half A and half B; unanswerable questions alternate by id), fits the weights of
pipeline/rerank.py on one half by coordinate search (maximising recall@5 + MRR@10) and reports both halves,
and the same with a pairwise (RankNet-style) linear fit, then fits the relevance logistic
(pipeline/relevance.py) on the questions of one half (answerable or not, by the best of their first 4
passages) and reports the not-found trade-off on the other.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

FEATURES = ("similarity", "coverage", "bm25", "proximity", "fused")
EXTRA = ("window",)  # collected with --windows; not in pipeline/rerank.py
GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
RELEVANCE_INPUTS = (("similarity",), ("similarity", "coverage"), ("similarity", "proximity"), ("similarity", "absent"))
PASSAGES = 4  # HEARTH_RAG_PASSAGES: "not found" looks at the best of these


def _windows(text: str, size: int = 240) -> list[str]:
    """A passage as windows of whole sentences or lines, about `size` characters each."""
    import re

    pieces = [p for p in re.split(r"(?<=[.!?:;])\s+|\n", text) if p.strip()]
    windows, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > size:
            windows.append(current)
            current = ""
        current = f"{current} {piece}".strip()
    return [*windows, current] if current else windows


def window_similarities(question: str, found: list[Any], top: int = 15) -> dict[Any, float]:
    """Experiment: the best cosine of the question against any window of each of the first `top` candidates."""
    import numpy as np

    from assistant.documents.pipeline.embed import embedder

    model = embedder()
    query = np.asarray(model.embed_batch([question])[0])
    result = {}
    for candidate in found[:top]:
        windows = _windows(candidate.row.text)
        if len(windows) < 2:
            continue
        vectors = np.asarray(model.embed_batch(windows))
        result[candidate.key] = max(candidate.features.similarity, float((vectors @ query).max()))
    return result


def collect(quick: bool, data: Path | None, out: Path, windows: bool = False) -> None:
    from bench.documents import chroma_running, django_setup, user_create
    from bench.documents_eval import ingest_library, library, questions_for
    from bench.documents_eval_metrics import answers

    folder = data or Path(tempfile.mkdtemp(prefix="hearth-bench-tune-"))
    with chroma_running(folder) as port:
        django_setup(folder, port)
        from django.contrib.auth import get_user_model

        from assistant.documents.pipeline.keyword import keyword_search
        from assistant.documents.search import query_terms, search_candidates

        paths = library(quick=quick)
        owner = get_user_model().objects.filter(username="eval").first()
        if owner is None:
            owner = user_create("eval")
            ingest_library(owner, paths)
        rows = []
        for question in questions_for(paths):
            found = search_candidates(owner=owner, query=question["question"], pool=30)
            window = window_similarities(question["question"], found) if windows else {}
            terms = query_terms(question["question"])
            keyword = keyword_search(owner_id=owner.pk, document_ids=None, terms=terms, limit=1)
            rows.append(
                {
                    "id": question["id"],
                    "absent": len(keyword.absent) / max(len(terms), 1),
                    "terms": {term: keyword.counts.get(term, 0) for term in terms},
                    "answerable": question["answerable"],
                    "document": question.get("document"),
                    "candidates": [
                        {
                            **{name: getattr(c.features, name) for name in FEATURES},
                            "window": window.get(c.key, c.features.similarity),
                            "answers": answers(question, c.row.document.name, c.row.page, c.row.text),
                        }
                        for c in found
                    ],
                }
            )
    out.write_text(json.dumps(rows))
    print(f"{len(rows)} questions written to {out}; data folder {folder}", file=sys.stderr)


def halves(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    documents = sorted({row["document"] for row in rows if row["answerable"]})
    side = {name: index % 2 for index, name in enumerate(documents)}
    unanswerable = sorted(row["id"] for row in rows if not row["answerable"])
    side |= {identifier: index % 2 for index, identifier in enumerate(unanswerable)}
    key = [side[row["document"]] if row["answerable"] else side[row["id"]] for row in rows]
    return [r for r, k in zip(rows, key, strict=True) if k == 0], [r for r, k in zip(rows, key, strict=True) if k]


def ranked(row: dict[str, Any], weights: dict[str, float]) -> list[dict[str, Any]]:
    def score(c: dict[str, Any]) -> float:
        return float(sum(w * c[name] for name, w in weights.items()))

    return sorted(row["candidates"], key=lambda c: -score(c))


def recall_mrr(rows: list[dict[str, Any]], weights: dict[str, float]) -> tuple[float, float, float]:
    answerable = [row for row in rows if row["answerable"]]
    r5 = r10 = mrr = 0.0
    for row in answerable:
        order = ranked(row, weights)[:10]
        rank = next((i for i, c in enumerate(order, start=1) if c["answers"]), None)
        if rank is not None:
            r10 += 1
            r5 += rank <= 5
            mrr += 1 / rank
    n = max(len(answerable), 1)
    return r5 / n, mrr / n, r10 / n


def fit_weights(
    rows: list[dict[str, Any]], start: dict[str, float], names: tuple[str, ...] = FEATURES[1:]
) -> dict[str, float]:
    """Coordinate search over GRID, similarity's weight fixed at 1 (only ratios matter)."""
    weights = dict(start)

    def objective(w: dict[str, float]) -> float:
        r5, mrr, _ = recall_mrr(rows, w)
        return r5 + mrr

    best = objective(weights)
    for _ in range(3):
        for name in names:
            for value in GRID:
                trial = weights | {name: value}
                value_score = objective(trial)
                if value_score > best + 1e-9:
                    best, weights = value_score, trial
    return weights


def logistic(xs: list[list[float]], ys: list[int], iterations: int = 50) -> list[float]:
    """Logistic regression by Newton's method with a little L2; the bias last."""
    import numpy as np

    x = np.hstack([np.asarray(xs, dtype=float), np.ones((len(xs), 1))])
    y = np.asarray(ys, dtype=float)
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (p - y) + 0.01 * beta
        hessian = (x.T * (p * (1 - p))) @ x + 0.01 * np.eye(x.shape[1])
        beta -= np.linalg.solve(hessian, gradient)
    return [float(b) for b in beta]


def probability(beta: list[float], values: list[float]) -> float:
    z = beta[-1] + sum(b * v for b, v in zip(beta, values, strict=False))
    return 1 / (1 + math.exp(-z))


def question_values(row: dict[str, Any], weights: dict[str, float], names: tuple[str, ...]) -> list[float]:
    """Per question: each feature's best over the first PASSAGES candidates ("absent" is the question's own)."""
    top = ranked(row, weights)[:PASSAGES]
    return [row["absent"] if n == "absent" else max((c[n] for c in top), default=0.0) for n in names]


def top_scores(
    rows: list[dict[str, Any]], weights: dict[str, float], beta: list[float], names: tuple[str, ...]
) -> list[tuple[bool, float]]:
    return [(row["answerable"], probability(beta, question_values(row, weights, names))) for row in rows]


def not_found(scored: list[tuple[bool, float]], threshold: float) -> tuple[float, float]:
    unanswerable = [s for a, s in scored if not a]
    answerable = [s for a, s in scored if a]
    return (
        sum(s < threshold for s in unanswerable) / max(len(unanswerable), 1),
        sum(s < threshold for s in answerable) / max(len(answerable), 1),
    )


def best_threshold(scored: list[tuple[bool, float]], max_false: float = 0.05) -> float:
    best, best_nf = 0.0, -1.0
    for _, threshold in sorted(scored, key=lambda item: item[1]):
        nf, fnf = not_found(scored, threshold)
        if fnf <= max_false and nf > best_nf:
            best, best_nf = threshold, nf
    return best


def fit_relevance(
    train: list[dict[str, Any]], test: list[dict[str, Any]], weights: dict[str, float], names: tuple[str, ...]
) -> list[str]:
    xs = [question_values(row, weights, names) for row in train]
    beta = logistic(xs, [int(row["answerable"]) for row in train])
    threshold = best_threshold(top_scores(train, weights, beta, names))
    lines = [f"  relevance on {names}: coefficients {[round(b, 3) for b in beta]}, threshold {threshold:.3f}"]
    for label, rows in (("fit half", train), ("other half", test)):
        scored = top_scores(rows, weights, beta, names)
        nf, fnf = not_found(scored, threshold)
        own = best_threshold(scored)
        lines.append(
            f"    {label}: NF {nf:.2f} FNF {fnf:.2f} at it;"
            f" best own threshold {own:.3f} gives NF {not_found(scored, own)[0]:.2f}"
        )
    return lines


def fit(path: Path) -> str:
    rows = json.loads(path.read_text())
    a, b = halves(rows)
    lines = [f"{len(rows)} questions; half A {len(a)}, half B {len(b)}"]
    pooled = [r for r in rows if r["answerable"]]
    share = sum(any(c["answers"] for c in r["candidates"]) for r in pooled) / max(len(pooled), 1)
    lines.append(f"an answering passage among the candidates (either half's 30): {share:.2f}")
    plain = {"similarity": 0.0, "fused": 1.0}
    for label, weights in (("fused ranks only (old order)", plain), ("similarity only", {"similarity": 1.0})):
        lines.append(
            f"{label}: A {fmt(recall_mrr(a, weights))}  B {fmt(recall_mrr(b, weights))}"
            f"  all {fmt(recall_mrr(rows, weights))}"
        )
    start = {"similarity": 1.0, **{name: 0.0 for name in FEATURES[1:]}}
    names = FEATURES[1:] + (EXTRA if rows and rows[0]["candidates"] and "window" in rows[0]["candidates"][0] else ())
    for label, train, test in (("A", a, b), ("B", b, a), ("all", rows, rows)):
        weights = fit_weights(train, start, names)
        lines.append(f"fitted on {label}: {weights}")
        lines.append(
            f"  fit half {fmt(recall_mrr(train, weights))}  other half {fmt(recall_mrr(test, weights))}"
            f"  all {fmt(recall_mrr(rows, weights))}"
        )
        for inputs in RELEVANCE_INPUTS:
            lines += fit_relevance(train, test, weights, inputs)
    return "\n".join([*lines, pairwise_report(path)])


def fmt(values: tuple[float, float, float]) -> str:
    return "R@5 {:.2f} MRR {:.2f} R@10 {:.2f}".format(*values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.documents_tune")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--quick", action="store_true")
    c.add_argument("--data", type=Path)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--windows", action="store_true", help="also the best window cosine of the first 15 (slow)")
    f = sub.add_parser("fit")
    f.add_argument("features", type=Path)
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.quick, args.data, args.out, args.windows)
    else:
        print(fit(args.features))
    return 0


def fit_pairwise(rows: list[dict[str, Any]], names: tuple[str, ...], l2: float = 1.0) -> dict[str, float]:
    """A linear ranker fitted on pairs (answering minus not answering candidate of one question), RankNet-style."""
    xs, ys = [], []
    for row in rows:
        good = [c for c in row["candidates"] if c["answers"]]
        bad = [c for c in row["candidates"] if not c["answers"]]
        for g in good:
            for b in bad:
                difference = [g[n] - b[n] for n in names]
                xs += [difference, [-d for d in difference]]
                ys += [1, 0]
    import numpy as np

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    beta = np.zeros(len(names))
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (p - y) / len(y) + l2 * 1e-3 * beta
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + l2 * 1e-3 * np.eye(len(names))
        beta -= np.linalg.solve(hessian, gradient)
    scale = beta[0] if beta[0] > 0 else 1.0
    return {n: round(float(b / scale), 3) for n, b in zip(names, beta, strict=True)}


def pairwise_report(path: Path) -> str:
    rows = json.loads(path.read_text())
    a, b = halves(rows)
    lines = []
    for names in (FEATURES, ("similarity", "coverage", "bm25", "proximity", "fused", "window")):
        for label, train, test in (("A", a, b), ("B", b, a), ("all", rows, rows)):
            weights = fit_pairwise(train, names)
            lines.append(f"pairwise on {label} {weights}")
            lines.append(f"  fit {fmt(recall_mrr(train, weights))}  other {fmt(recall_mrr(test, weights))}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
