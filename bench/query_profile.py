"""Where one question's time goes: `Engine.ask` under cProfile, split by stage.

    python bench/query_profile.py --work .cache/scale-100000 [--mode hybrid] [--queries 30]
                                  [--store nprobe=32 ...] [--top 25]

Loads an index made by bench/scale.py (`--work`, its hashing embedder, questions also encoded
by the real model's ONNX export, as scale.py times them), asks the eval questions a first time
to warm the files, then again under cProfile, and prints per stage the cumulative milliseconds
per question (a stage's calls nest inside `ask`, and some inside each other: `rank` holds the
dense search, BM25 and candidate fetch) and the busiest functions by own time. The load
average is printed beside the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.config import Settings  # noqa: E402
from qa.params import StoreParams, with_values  # noqa: E402

# (stage, file suffix, function name): cumulative time of that function per question
STAGES = (
    ("ask (all)", "qa/engine.py", "ask_batch"),
    ("encode (ONNX, real model)", "qa/onnx_encoder.py", "encode_queries"),
    ("encode (hashing, bench)", "bench/scale.py", "encode_documents"),
    ("rank (retrieval, all)", "qa/retrieval.py", "_rank"),
    ("  dense search (FAISS)", "qa/store/dense.py", "search"),
    ("  BM25 scores (bm25s)", "qa/lexical.py", "scores"),
    ("  BM25 top list", "qa/store/index.py", "lexical_candidates"),
    ("  candidate fetch (SQLite)", "qa/store/passages.py", "at"),
    ("  dense re-score", "qa/retrieval.py", "_dense_scores"),
    ("  fusion", "qa/retrieval.py", "fuse"),
    ("  heading lift", "qa/retrieval.py", "_heading_lift"),
    ("  exact tokens", "qa/retrieval.py", "_exact_mask"),
    ("answer (after ranking)", "qa/engine.py", "_answer"),
    ("  highlight", "qa/highlight.py", "highlight_passage"),
    ("  answer presence", "qa/span_presence.py", "sentences_holding_answer"),
    ("  answerability", "qa/answerability.py", "measure"),
    ("  answer span", "qa/engine.py", "_with_answer_span"),
)


def stage_table(stats: pstats.Stats, questions: int) -> list[tuple[str, float, int]]:
    """Per stage: milliseconds per question (cumulative) and calls per question."""
    out = []
    for label, suffix, name in STAGES:
        ms, calls = 0.0, 0
        for (filename, _, function), (_, primitive, _, cumulative, _) in stats.stats.items():
            if function == name and filename.endswith(suffix):
                ms += cumulative * 1000
                calls += primitive
        out.append((label, ms / questions, calls // max(1, questions)))
    return out


def main() -> None:
    from scale import HashingEmbedder, query_model, questions

    from qa.engine import Engine
    from qa.store import load_index

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a bench/scale.py folder (holds index/)")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--store", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--top", type=int, default=25, help="functions listed by own time")
    args = parser.parse_args()
    store = with_values(StoreParams(), dict(item.split("=", 1) for item in args.store))
    settings = Settings(docs=(args.work / "docs",), index_dir=args.work / "index", onnx_queries=False, store=store)
    index = load_index(settings.index_dir, params=settings.store)
    engine = Engine(settings, index, HashingEmbedder(query_model()))
    asked = questions(args.queries)
    for question in asked:  # warm the files and caches, as a serving process is
        engine.ask(question, mode=args.mode)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for question in asked:
        engine.ask(question, mode=args.mode)
    profile.disable()
    wall = (time.perf_counter() - started) * 1000 / len(asked)
    stats = pstats.Stats(profile)
    print(f"{index.passages:,} passages, {index.manifest['store']['dense'].get('factory', 'exact')}, "
          f"nprobe {store.nprobe}, mode {args.mode}, {len(asked)} questions; wall {wall:.1f} ms a question "
          f"under cProfile; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, ms, calls in stage_table(stats, len(asked)):
        print(f"{label:30} {ms:8.1f} ms   {calls:4d} calls")
    buffer = io.StringIO()
    pstats.Stats(profile, stream=buffer).sort_stats("tottime").print_stats(args.top)
    print(buffer.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
