"""Dense, BM25 and hybrid side by side: quality and query latency, against the model's own
query-encoding time as the floor.

    python bench/retrieval.py [--questions FILE] [--docs DIR] [--scifact DIR | --no-scifact]

On the seed questions a query is timed end to end through `Engine.ask` (retrieval,
highlighting, confidence); on SciFact through the BEIR harness (retrieval and document
scoring). The `encode` row times `embedder.encode_queries([question])` on the same questions,
one at a time: no mode can be faster than that, and `x encode` is each mode's p50 over it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import MODES, load_settings  # noqa: E402
from qa.evaluation.harness import format_table  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402

DEFAULT_SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"


def encode_floor(embedder, questions, repeat: int = 1) -> tuple[float, float]:
    """p50 and p95 (ms) of encoding one question at a time (best of `repeat` per question)."""
    embedder.encode_queries(["warm-up"])
    best = [float("inf")] * len(questions)
    for _ in range(repeat):
        for i, q in enumerate(questions):
            started = time.perf_counter()
            embedder.encode_queries([q])
            best[i] = min(best[i], (time.perf_counter() - started) * 1000)
    return percentile(best, 50), percentile(best, 95)


def seeds_rows(args) -> list[list[str]]:
    from qa.engine import Engine
    from qa.evaluation.harness import evaluate_questions, load_questions

    settings = load_settings(docs=tuple(args.docs) if args.docs else None, index_dir=args.index)
    engine = Engine.open(settings)
    items = load_questions(args.questions)
    texts = [q.question for q in items]
    enc50, enc95 = encode_floor(engine.embedder, texts, repeat=args.repeat)
    rows = []
    for mode in MODES:
        # best of `repeat` runs per question, so a busy machine disturbs the figures less
        reports = [evaluate_questions(engine, items, mode) for _ in range(args.repeat)]
        best = [min(r.outcomes[i].latency_ms for r in reports) for i in range(len(items))]
        r = reports[0]
        p50, p95 = percentile(best, 50), percentile(best, 95)
        rows.append(["seeds", mode, str(r.questions), f"Hit@1 {r.hit_at_1:.3f}", f"Hit@3 {r.hit_at_3:.3f}",
                     f"MRR@10 {r.mrr_at_10:.3f}", f"{p50:.1f}", f"{p95:.1f}", f"{p50 / enc50:.2f}"])
    rows.append(["seeds", "encode", str(len(texts)), "", "", "", f"{enc50:.1f}", f"{enc95:.1f}", "1.00"])
    return rows


def scifact_rows(args, folder: Path) -> list[list[str]]:
    from qa.embedding import load_embedder
    from qa.evaluation.beir import load_beir, run_beir

    settings = load_settings()
    dataset = load_beir(folder, args.qrels)
    reports = run_beir(dataset, settings, list(MODES), progress=True)
    texts = list(dataset.queries.values())
    enc50, enc95 = encode_floor(load_embedder(settings.model, settings.device), texts)
    rows = [[dataset.name, r.mode, str(r.queries), f"nDCG@10 {r.ndcg_at_10:.4f}", f"R@100 {r.recall_at_100:.4f}",
             f"MRR@10 {r.mrr_at_10:.4f}", f"{r.latency_p50_ms:.1f}", f"{r.latency_p95_ms:.1f}",
             f"{r.latency_p50_ms / enc50:.2f}"] for r in reports]
    rows.append([dataset.name, "encode", str(len(texts)), "", "", "", f"{enc50:.1f}", f"{enc95:.1f}", "1.00"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "seed_questions.jsonl")
    parser.add_argument("--docs", type=Path, action="append", help="collection folder (default: seeds/)")
    parser.add_argument("--index", type=Path, default=ROOT / ".cache" / "bench" / "seeds-index",
                        help="index folder for the question collection")
    parser.add_argument("--scifact", type=Path, default=DEFAULT_SCIFACT if DEFAULT_SCIFACT.is_dir() else None,
                        help="a BEIR folder (default: /work/shared/bench/scifact when present)")
    parser.add_argument("--qrels", type=Path, default=None, help="qrels file for --scifact (default: its only one)")
    parser.add_argument("--no-scifact", action="store_true", help="skip the BEIR part")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs over the seed questions (best kept)")
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rows = [["collection", "mode", "queries", "quality", "", "", "p50 ms", "p95 ms", "x encode"]]
    rows += seeds_rows(args)
    if args.scifact is not None and not args.no_scifact:
        if not args.scifact.is_dir():
            sys.exit(f"no BEIR folder at {args.scifact}")
        rows += scifact_rows(args, args.scifact)
    print(format_table(rows))


if __name__ == "__main__":
    main()
