"""Seed-question Hit@1/Hit@3/MRR for retrieval configurations (the companion of tune_fusion.py).

    python bench/tune_seeds.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import Settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.harness import evaluate_questions, load_questions  # noqa: E402
from qa.lexical import LexicalIndex, passage_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    engine = Engine.open(Settings(docs=(ROOT / "seeds",), index_dir=ROOT / ".cache" / "bench" / "seeds-index"))
    items = load_questions(ROOT / "data" / "eval" / "seed_questions.jsonl")
    idx = engine.index
    r = engine.retriever
    for text, (k1, b) in itertools.product(("passage", "title+passage"), ((1.2, 0.75), (0.9, 0.4))):
        idx.lexical = LexicalIndex.build([passage_text(idx.document(i).title, c.text, text)
                                          for i, c in enumerate(idx.chunks)], k1=k1, b=b)
        for mode in ("bm25",):
            rep = evaluate_questions(engine, items, mode)
            print(f"{text:14s} k1={k1} b={b} {mode:6s}  Hit@1 {rep.hit_at_1:.3f} Hit@3 {rep.hit_at_3:.3f} "
                  f"MRR {rep.mrr_at_10:.3f}", flush=True)
        for sw, fusion, dw in itertools.product((0.5, 0.7), ("minmax", "zscore"), (0.4, 0.5, 0.6)):
            r.sentence_weight, r.fusion, r.dense_weight = sw, fusion, dw
            rep = evaluate_questions(engine, items, "hybrid")
            print(f"{text:14s} k1={k1} b={b} sw={sw} {fusion} dw={dw}  Hit@1 {rep.hit_at_1:.3f} "
                  f"Hit@3 {rep.hit_at_3:.3f} MRR {rep.mrr_at_10:.3f}", flush=True)
        for rk in (10, 60):
            r.sentence_weight, r.fusion, r.rrf_k = 0.5, "rrf", rk
            rep = evaluate_questions(engine, items, "hybrid")
            print(f"{text:14s} k1={k1} b={b} rrf k={rk}  Hit@1 {rep.hit_at_1:.3f} Hit@3 {rep.hit_at_3:.3f} "
                  f"MRR {rep.mrr_at_10:.3f}", flush=True)


if __name__ == "__main__":
    main()
